"""The published conformance page (tests/peers/publish.py) in headless
Chromium.

A page is generated in a tmp dir from three peers' golden files (as if
ci/conformance had just graded them) plus one skipped peer; Chromium loads
it (--dump-dom, as test_30_chromium.py starts it) and the table is checked
against counts computed here: one column per peer in order, one row per
category, the verdict counts of every cell, the links to each peer's
report. A screenshot is kept as an artifact (its path is printed). When
ci/conformance has written reports/conformance/index.html, that page is
checked the same way against its summary.json.
"""

import html.parser
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib

import pytest

from conftest import ROOT
from test_30_chromium import run_chromium

PUBLISH = os.path.join(ROOT, "tests", "peers", "publish.py")
GOLDEN = os.path.join(ROOT, "conformance", "golden")
PUBLISHED = os.path.join(ROOT, "reports", "conformance")
RAN = ["wsspec", "ws", "websockets"]
SKIPPED = "tornado"


class Matrix(html.parser.HTMLParser):
    """The #matrix table of a dumped DOM: column peers, and per row
    (data-category) the cells: {peer: {"cases": n, "chips": {(kind,
    verdict): count}, "links": [...]}}; plus the header links."""

    def __init__(self):
        super().__init__()
        self.heads, self.head_attrs, self.rows = [], {}, {}
        self.links = {}
        self._in_table = self._in_head = False
        self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "matrix":
            self._in_table = True
        if not self._in_table:
            return
        if tag == "thead":
            self._in_head = True
        elif tag == "th" and self._in_head and "data-peer" in a:
            self.heads.append(a["data-peer"])
            self.head_attrs[a["data-peer"]] = a
            self._cell = ("head", a["data-peer"])
        elif tag == "tr" and not self._in_head and "data-category" in a:
            self._row = a["data-category"]
            self.rows.setdefault(self._row, {})
        elif tag == "td" and self._row is not None and "data-peer" in a:
            self._cell = ("cell", a["data-peer"])
            self.rows[self._row][a["data-peer"]] = {
                "cases": int(a["data-cases"]) if "data-cases" in a else None,
                "chips": {}}
        elif tag == "span" and "data-verdict" in a and self._cell and \
                self._cell[0] == "cell":
            cell = self.rows[self._row][self._cell[1]]
            cell["chips"][(a["data-kind"], a["data-verdict"])] = \
                int(a["data-count"])
        elif tag == "a" and self._cell and self._cell[0] == "head":
            self.links[self._cell[1]] = a.get("href")

    def handle_endtag(self, tag):
        if tag == "thead":
            self._in_head = False
        elif tag == "table":
            self._in_table = False
        elif tag in ("td", "th"):
            self._cell = None
        elif tag == "tr":
            self._row = None


def expected_counts(index):
    """{category: {"cases": n, "chips": {(kind, verdict): n}}} and "all",
    as the page must show them (behaviorClose: non-OK verdicts only)."""
    out = {}
    for cid, v in index.items():
        for key in (cid.split(".")[0], "all"):
            c = out.setdefault(key, {"cases": 0, "chips": {}})
            c["cases"] += 1
            for kind in ("behavior", "behaviorClose"):
                verdict = v[kind]
                if kind == "behaviorClose" and verdict in ("OK",
                                                           "INFORMATIONAL"):
                    continue
                c["chips"][(kind, verdict)] = \
                    c["chips"].get((kind, verdict), 0) + 1
    return out


def png_info(path):
    """(width, height, distinct byte values of the decoded scanlines)."""
    with open(path, "rb") as fh:
        data = fh.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, size = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    return size[0], size[1], len(set(zlib.decompress(idat)))


def screenshot(procs, tmp_path, url, name):
    shot = tmp_path / name
    run_chromium(procs, tmp_path, url, "--screenshot=%s" % shot,
             "--window-size=1400,1000", "--hide-scrollbars")
    w, h, distinct = png_info(str(shot))
    assert (w, h) == (1400, 1000)
    # A blank or unstyled page has a handful of colours; the coloured
    # verdict chips and bars give many more.
    assert distinct > 60, "the screenshot looks empty (%d values)" % distinct
    print("\nscreenshot: %s" % shot)
    return shot


@pytest.fixture
def generated(tmp_path):
    """DIR with three graded peers (golden files as their reports) and
    one skipped peer, published."""
    d = tmp_path / "conformance"
    indexes = {}
    for name in RAN:
        os.makedirs(d / name)
        shutil.copy(os.path.join(GOLDEN, name + ".json"),
                    d / name / "index.json")
        (d / name / "index.html").write_text("<!doctype html><title>%s"
                                             "</title>" % name)
        with open(d / name / "index.json") as fh:
            indexes[name] = json.load(fh)[name]
        (d / (name + ".meta.json")).write_text(json.dumps({
            "peer": name, "status": "ran", "rc": 0, "seconds": 1.5,
            "jobs": 8, "version": "test", "differences": [],
            "golden": "conformance/golden/%s.json" % name}))
    (d / (SKIPPED + ".meta.json")).write_text(json.dumps({
        "peer": SKIPPED, "status": "skipped",
        "reason": "python module tornado is missing for /usr/bin/python3"}))
    r = subprocess.run([sys.executable, PUBLISH, str(d), "--peers",
                        ",".join(RAN + [SKIPPED])],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return d, indexes


def check_page(m, indexes, peers, skipped=()):
    assert m.heads == peers, m.heads
    for name in skipped:
        assert m.head_attrs[name]["data-status"] == "skipped"
        assert name not in m.links
    ran = [p for p in peers if p not in skipped]
    for name in ran:
        assert m.links[name] == name + "/index.html"
        assert m.head_attrs[name]["data-status"] == "ran"
    cats = sorted({cid.split(".")[0] for idx in indexes.values()
                   for cid in idx}, key=int)
    assert [r for r in m.rows if r not in ("all", "pass")] == cats
    for name in ran:
        want = expected_counts(indexes[name])
        for cat in cats + ["all"]:
            got = m.rows[cat][name]
            # A category the peer does not run at all: "not run", 0 cases.
            exp = want.get(cat, {"cases": 0, "chips": {}})
            assert got["cases"] == exp["cases"], (name, cat)
            assert got["chips"] == exp["chips"], (name, cat, got)
    for name in skipped:
        for cat in cats:
            assert m.rows[cat][name]["chips"] == {}


def test_81_01_generated_page(generated, procs, tmp_path):
    d, indexes = generated
    with open(d / "summary.json") as fh:
        summary = json.load(fh)
    assert [p["name"] for p in summary["peers"]] == RAN + [SKIPPED]
    by_name = {p["name"]: p for p in summary["peers"]}
    assert by_name[SKIPPED]["status"] == "skipped"
    for name in RAN:
        assert by_name[name]["goldenState"] == "match"
        assert by_name[name]["counts"]["cases"] == len(indexes[name])
    url = "file://%s" % (d / "index.html")
    m = Matrix()
    m.feed(run_chromium(procs, tmp_path, url, "--dump-dom"))
    check_page(m, indexes, RAN + [SKIPPED], skipped=[SKIPPED])
    screenshot(procs, tmp_path, url, "conformance-generated.png")


def test_81_02_published_page(procs, tmp_path):
    """reports/conformance/index.html as ci/conformance left it."""
    page = os.path.join(PUBLISHED, "index.html")
    if not os.path.exists(page):
        pytest.skip("no %s: run ci/conformance first" %
                    os.path.relpath(page, ROOT))
    with open(os.path.join(PUBLISHED, "summary.json")) as fh:
        summary = json.load(fh)
    peers = [p["name"] for p in summary["peers"]]
    skipped = [p["name"] for p in summary["peers"] if p["status"] != "ran"]
    indexes = {}
    for name in peers:
        if name in skipped:
            continue
        with open(os.path.join(PUBLISHED, name, "index.json")) as fh:
            indexes[name] = json.load(fh)[name]
    m = Matrix()
    m.feed(run_chromium(procs, tmp_path, "file://" + page, "--dump-dom"))
    check_page(m, indexes, peers, skipped=skipped)
    screenshot(procs, tmp_path, "file://" + page, "conformance.png")
