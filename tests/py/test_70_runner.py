"""`wsspec run`: the conformance runner end to end.

  - against `wsspec echo`: all 301 Autobahn cases pass; the reports
    (index.json in Autobahn's layout, per-case JSON with Autobahn's keys,
    index.html rendered by headless Chromium, JUnit XML) and the summary;
    the same verdicts with --jobs 1;
  - against the misbehaving servers of badservers.py (each breaks one
    rule): the exact verdicts Autobahn gives, and never a hang;
  - --expect golden files, Autobahn fuzzingclient spec files, the exit
    codes 0 / 1 / 2 and the usage errors.

Every run has a hard timeout (conftest.run_wsspec); every server listens on
127.0.0.1 port 0 and is stopped at teardown.
"""

import functools
import json
import os
import re
import select
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from badservers import WRONG_CODE, refused_url
from conftest import (_die_with_parent, kill_group, need,
                      run_wsspec, wsspec_path)

N_CASES = 301
INFORMATIONAL = {"7.1.6", "7.13.1", "7.13.2"}
OK = ("OK", "OK")

# Autobahn's per-case report keys (autobahn.md b.2), plus wsspec's own.
CASE_KEYS = {
    "agent", "behavior", "behaviorClose", "case", "closedByMe",
    "createStats", "createWirelog", "description", "droppedByMe",
    "duration", "expectation", "expected", "expectedClose", "failedByMe",
    "httpRequest", "httpResponse", "id", "isServer", "localCloseCode",
    "localCloseReason", "received", "remoteCloseCode", "remoteCloseReason",
    "reportCompressionRatio", "reportTime", "result", "resultClose",
    "rxFrameStats", "rxOctetStats", "started", "trafficStats",
    "txFrameStats", "txOctetStats", "wasClean", "wasCloseHandshakeTimeout",
    "wasNotCleanReason", "wasOpenHandshakeTimeout",
    "wasServerConnectionDropTimeout", "wirelog", "wsspec",
}
INDEX_KEYS = {"behavior", "behaviorClose", "duration", "remoteCloseCode",
              "reportfile"}
BEHAVIORS = {"OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"}
CLOSE_VERDICTS = {"OK", "WRONG CODE", "UNCLEAN", "FAILED BY CLIENT",
                  "FAILED", "INFORMATIONAL"}
SUMMARY_RE = re.compile(r"^agent (.+) \((ws://\S+)\): (\d+) cases? in "
                        r"(\d+\.\d\d) s, (\d+) passed, (\d+) failed$")


@pytest.fixture(autouse=True)
def _need_run():
    need("run")


# ---------------------------------------------------------------- helpers

@functools.lru_cache(maxsize=None)
def catalogue(*patterns):
    """`wsspec list --json PATTERNS` -> [case dict], in Autobahn order."""
    p = subprocess.run([wsspec_path(), "list", "--json"] + list(patterns),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def ids(*patterns):
    return [c["id"] for c in catalogue(*patterns)]


def id_key(case_id):
    return [int(x) for x in case_id.split(".")]


def load_index(report_dir):
    with open(os.path.join(report_dir, "index.json")) as fh:
        return json.load(fh)


def load_case(report_dir, entry):
    with open(os.path.join(report_dir, entry["reportfile"])) as fh:
        return json.load(fh)


def verdicts(index_agent):
    return {k: (v["behavior"], v["behaviorClose"])
            for k, v in index_agent.items()}


def passes(pair, strict=False):
    b, c = pair
    ok_b = b in ("OK", "NON-STRICT", "INFORMATIONAL") or (
        b == "UNIMPLEMENTED" and not strict)
    return ok_b and c in ("OK", "INFORMATIONAL")


def failing_ids(stdout):
    """Case ids listed as failing in the summary."""
    return {m.group(1) for m in
            re.finditer(r"^  FAIL (\S+) +behavior ", stdout, re.M)}


def summary_lines(stdout):
    return [SUMMARY_RE.match(line) for line in stdout.splitlines()
            if SUMMARY_RE.match(line)]


# ------------------------------------------------- wsspec echo: all cases

@pytest.fixture(scope="module")
def full_run(echo_server, tmp_path_factory):
    """All 301 cases against the session `wsspec echo`, default --jobs,
    with JUnit; run once for the tests that read its reports."""
    need("run")
    out = str(tmp_path_factory.mktemp("full"))
    junit = os.path.join(out, "junit.xml")
    r = run_wsspec(["run", echo_server.url, "--agent", "wsspec",
                    "--report-dir", out, "--junit", junit], timeout=120)
    print("\nwsspec run, all %d cases against wsspec echo, default --jobs: "
          "%.2f s wall" % (N_CASES, r.seconds))
    r.dir = out
    r.junit = junit
    return r


def test_70_01_echo_passes_every_case(full_run, echo):
    r = full_run
    assert r.returncode == 0, r
    # No terminal: no progress line, nothing at all on stderr.
    assert r.stderr == "", r
    index = load_index(r.dir)
    assert list(index) == ["wsspec"]
    got = verdicts(index["wsspec"])
    assert sorted(got, key=id_key) == ids("*")
    assert len(got) == N_CASES
    # wsspec echo fails fast on invalid UTF-8 (6.4.x OK, not NON-STRICT)
    # and is OK everywhere Autobahn allows it; only the three
    # informational cases are not OK.
    for case_id, pair in got.items():
        want = ("INFORMATIONAL",) * 2 if case_id in INFORMATIONAL else OK
        assert pair == want, (case_id, pair)
    for case_id in ("6.4.1", "6.4.2", "6.4.3", "6.4.4"):
        assert got[case_id] == OK
        assert index["wsspec"][case_id]["remoteCloseCode"] == 1007


def test_70_02_summary(full_run):
    lines = full_run.stdout.splitlines()
    m = SUMMARY_RE.match(lines[0])
    assert m, full_run
    assert m.group(1) == "wsspec"
    assert (m.group(3), m.group(5), m.group(6)) == (str(N_CASES),
                                                    str(N_CASES), "0")
    assert float(m.group(4)) <= full_run.seconds + 0.01
    assert lines[1:] == [
        "  behavior       OK 298, INFORMATIONAL 3",
        "  behaviorClose  OK 298, INFORMATIONAL 3",
        "report: %s/index.html" % full_run.dir,
        "junit: %s" % full_run.junit,
    ], full_run


def test_70_03_index_json_layout(full_run):
    with open(os.path.join(full_run.dir, "index.json")) as fh:
        text = fh.read()
    index = json.loads(text)
    # Autobahn writes json.dumps(sort_keys=True, indent=3): string-sorted
    # keys ("1.1.10" < "1.1.2", "10.1.1" < "2.1"), 3-space indentation.
    want = json.dumps(index, sort_keys=True, indent=3)
    assert [x.rstrip() for x in text.rstrip("\n").split("\n")] == \
        want.split("\n")
    assert text.startswith('{\n   "wsspec": {\n      "1.1.1": {\n'
                           '         "behavior": "OK",\n')
    agent = index["wsspec"]
    keys = [k for k in re.findall(r'^      "([0-9.]+)": \{$', text, re.M)]
    assert keys == sorted(agent) and len(keys) == N_CASES
    assert keys.index("10.1.1") < keys.index("2.1")
    for case_id, e in agent.items():
        assert set(e) == INDEX_KEYS, case_id
        assert e["behavior"] in BEHAVIORS
        assert e["behaviorClose"] in CLOSE_VERDICTS
        assert isinstance(e["duration"], int) and e["duration"] >= 0
        assert e["remoteCloseCode"] is None or \
            isinstance(e["remoteCloseCode"], int)
        assert e["reportfile"] == "wsspec_case_%s.json" % \
            case_id.replace(".", "_")
        base = os.path.join(full_run.dir, e["reportfile"][:-5])
        assert os.path.getsize(base + ".json") > 0, case_id
        assert os.path.getsize(base + ".html") > 0, case_id
    # Autobahn's timers: 6.4.x wait for their 1 s pauses; 5.19/5.20 too.
    assert agent["6.4.1"]["duration"] >= 1000
    assert agent["5.19"]["duration"] >= 1000
    assert agent["1.1.1"]["remoteCloseCode"] == 1000
    assert agent["2.5"]["remoteCloseCode"] == 1002


def test_70_04_case_report_schema(full_run):
    index = load_index(full_run.dir)["wsspec"]
    order = ids("*")
    started_re = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
    wire_kinds = {"RO", "TO", "RF", "TF", "CT", "CTE", "KL", "KLE", "TI",
                  "TIE", "WLM"}
    bools = ("closedByMe", "createStats", "createWirelog", "droppedByMe",
             "failedByMe", "isServer", "reportCompressionRatio",
             "reportTime", "wasClean", "wasCloseHandshakeTimeout",
             "wasOpenHandshakeTimeout", "wasServerConnectionDropTimeout")
    for case_id, e in index.items():
        d = load_case(full_run.dir, e)
        assert set(d) == CASE_KEYS, (case_id, set(d) ^ CASE_KEYS)
        assert d["id"] == case_id and d["agent"] == "wsspec"
        # "case": 1-based position in Autobahn's full list.
        assert d["case"] == order.index(case_id) + 1, case_id
        assert (d["behavior"], d["behaviorClose"]) == \
            (e["behavior"], e["behaviorClose"])
        assert d["duration"] == e["duration"]
        assert d["remoteCloseCode"] == e["remoteCloseCode"]
        for k in bools:
            assert isinstance(d[k], bool), (case_id, k)
        assert d["isServer"] is False
        assert started_re.match(d["started"]), d["started"]
        assert isinstance(d["expected"], dict)
        assert set(d["expectedClose"]) >= {"closeCode", "closedByMe",
                                           "requireClean"}
        assert isinstance(d["received"], list)
        for stats in ("rxOctetStats", "txOctetStats", "rxFrameStats",
                      "txFrameStats"):
            assert all(k.isdigit() and isinstance(v, int) and v > 0
                       for k, v in d[stats].items()), (case_id, stats)
        assert d["httpRequest"].startswith("GET / HTTP/1.1\r\n")
        assert d["httpResponse"].startswith("HTTP/1.1 101 ")
        assert all(row[0] in wire_kinds for row in d["wirelog"]), case_id
        assert d["trafficStats"] is None
        assert d["wsspec"]["section"]
        assert d["wsspec"]["error"] is None
    # Two exact reports.
    d = load_case(full_run.dir, index["2.1"])
    assert d["expected"] == {"OK": [["pong", ""]]}
    assert d["received"] == [["pong", ""]]
    assert d["expectedClose"] == {"closeCode": [1000], "closedByMe": True,
                                  "requireClean": True}
    assert (d["closedByMe"], d["wasClean"], d["localCloseCode"]) == \
        (True, True, 1000)
    d = load_case(full_run.dir, index["6.3.1"])
    assert d["expectedClose"]["closedByWrongEndpointIsFatal"] is True
    assert d["expectedClose"]["closeCode"] == [1007]
    assert (d["closedByMe"], d["remoteCloseCode"]) == (False, 1007)


def test_70_05_junit(full_run):
    root = ET.parse(full_run.junit).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == N_CASES
    assert root.findall(".//failure") == []
    assert [c.get("name").split(" ")[0] for c in cases] == ids("*")
    for suite in root.iter("testsuite"):
        assert suite.get("failures") in (None, "0")


def test_70_06_same_verdicts_with_one_job(full_run, echo, tmp_path):
    """Concurrency never changes a verdict: --jobs 1 gives the same
    index.json as the default, durations aside."""
    r = run_wsspec(["run", echo.url, "--agent", "wsspec", "--jobs", "1",
                    "--report-dir", tmp_path], timeout=120)
    print("\nwsspec run, all %d cases against wsspec echo: --jobs 1 "
          "%.2f s, default --jobs %.2f s" % (N_CASES, r.seconds,
                                             full_run.seconds))
    assert r.returncode == 0, r

    def strip(index):
        return {a: {k: (v["behavior"], v["behaviorClose"],
                        v["remoteCloseCode"]) for k, v in cases.items()}
                for a, cases in index.items()}
    assert strip(load_index(str(tmp_path))) == \
        strip(load_index(full_run.dir))


def test_70_07_chromium_renders_index(full_run, procs, tmp_path):
    """Headless Chromium (as in test_30_chromium.py) loads index.html:
    the DOM has the legend, the category rows and one row per case."""
    from test_30_chromium import run_chromium
    url = "file://" + os.path.join(full_run.dir, "index.html")
    shot = str(tmp_path / "index.png")

    def chromium(*args):
        return run_chromium(procs, tmp_path, url, *args)

    dom = chromium("--dump-dom")
    rows = re.findall(r'<tr class="agent_case_result_row" id="case_([0-9.]+)"',
                      dom)
    assert rows == ids("*"), dom[:2000]
    assert 'class="legend"' in dom
    for word in ("Pass", "Non-Strict", "Fail", "Info", "Missing"):
        assert ">%s<" % word in dom, word
    titles = re.findall(r'<tr class="case_category_row"><td[^>]*>([^<]*)<',
                        dom)
    assert set(titles) == {"%d %s" % (c["category"], c["category_title"])
                           for c in catalogue("*")}, titles
    chromium("--screenshot=" + shot, "--window-size=1280,2000")
    with open(shot, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(shot) > 10000


# ------------------------------------------------- misbehaving servers

def expect_no_utf8():
    """Invalid UTF-8 echoed back: the fuzzer fails the connection itself,
    so the 'fatal' cases are FAILED / FAILED; the valid ones are OK."""
    return {c["id"]: ("FAILED", "FAILED") if "fatal" in c["flags"] else OK
            for c in catalogue("6.3.*", "6.5.*", "6.6.*")}


F, FF = ("OK", "FAILED"), ("FAILED", "FAILED")
BAD = {
    # kind: (cases, {id: (behavior, behaviorClose)}, exit code)
    "good": ("1.*,2.*,3.*,4.*,5.*,6.1.*,6.2.*,6.3.*,7.1.*,7.3.*,7.5.1,"
             "7.7.*,7.9.*,7.13.*,10.1.1", None, 0),
    "no_utf8": ("6.3.*,6.5.*,6.6.*", expect_no_utf8, 1),
    # Silently dropped bad frames: behavior OK, but the fuzzer had to
    # close (Autobahn's quirk); with a Ping after the bad frame the Pong
    # is one event too many.
    "lax_frames": ("1.1.1,3.*,4.*", {
        "1.1.1": OK, "3.1": F, "3.2": FF, "3.3": FF, "3.4": FF, "3.5": F,
        "3.6": F, "3.7": F, "4.1.1": F, "4.1.2": F, "4.1.3": FF,
        "4.1.4": FF, "4.1.5": FF, "4.2.1": F, "4.2.2": F, "4.2.3": FF,
        "4.2.4": FF, "4.2.5": FF}, 1),
    # WRONG CODE fails only in 7.x.
    "wrong_close_code": ("1.1.1,2.1,7.1.1,7.1.3,7.3.1,7.3.3,7.3.4,7.7.1", {
        "1.1.1": ("OK", "WRONG CODE"), "2.1": ("OK", "WRONG CODE"),
        "7.1.1": ("FAILED", "WRONG CODE"), "7.1.3": ("FAILED", "WRONG CODE"),
        "7.3.1": ("FAILED", "WRONG CODE"), "7.3.3": ("FAILED", "WRONG CODE"),
        "7.3.4": ("FAILED", "WRONG CODE"),
        "7.7.1": ("FAILED", "WRONG CODE")}, 1),
    # The fuzzer drops TCP 1 s after the closing handshake: UNCLEAN; when
    # the server closed first, the kill timer drops it: FAILED BY CLIENT.
    # (Cases with a 1 s kill timer are left out: there the kill timer and
    # the drop timeout expire within a millisecond of each other.)
    "no_tcp_close": ("1.1.6,2.1,3.1,6.1.1", {
        "1.1.6": ("OK", "UNCLEAN"), "2.1": ("OK", "UNCLEAN"),
        "3.1": ("OK", "FAILED BY CLIENT"), "6.1.1": ("OK", "UNCLEAN")}, 1),
    "no_pong": ("1.1.1,2.1,2.2,2.5,2.7,2.9", {
        "1.1.1": OK, "2.1": ("FAILED", "OK"), "2.2": ("FAILED", "OK"),
        "2.5": OK, "2.7": OK, "2.9": ("FAILED", "OK")}, 1),
    # A bare TCP close is an acceptable way to fail a connection.
    "close_at_once": ("1.1.1,2.1,3.1,6.3.1,7.1.1", {
        "1.1.1": FF, "2.1": FF, "3.1": OK, "6.3.1": OK, "7.1.1": FF}, 1),
    "no_handshake": ("1.1.1,1.1.2", {"1.1.1": FF, "1.1.2": FF}, 1),
    "stall_mid_frame": ("1.1.2,2.1", {"1.1.2": ("FAILED", "UNCLEAN"),
                                      "2.1": ("FAILED", "UNCLEAN")}, 1),
    "flood": ("1.1.1", {"1.1.1": ("FAILED", "UNCLEAN")}, 1),
    "huge_frame": ("1.1.1", {"1.1.1": ("FAILED", "UNCLEAN")}, 1),
    "http404": ("1.1.1,2.1", {"1.1.1": FF, "2.1": FF}, 1),
}


def check_extra(kind, r, out, index):
    """What each kind shows beyond the verdicts."""
    case = functools.partial(load_case, out)
    if kind == "good":
        assert r.stderr == ""
    elif kind == "lax_frames":
        d = case(index["3.1"])
        # killAfter = Close 1001 "Going Away" from the fuzzer.
        assert (d["closedByMe"], d["localCloseCode"]) == (True, 1001)
        assert d["received"] == []
    elif kind == "wrong_close_code":
        assert {e["remoteCloseCode"] for e in index.values()} == {WRONG_CODE}
    elif kind == "no_tcp_close":
        d = case(index["1.1.6"])
        assert d["wasServerConnectionDropTimeout"] is True
        assert (d["droppedByMe"], d["wasClean"]) == (True, False)
        assert case(index["3.1"])["droppedByMe"] is True
    elif kind == "no_pong":
        d = case(index["2.1"])
        # closeAfter = a Close without a code.
        assert (d["received"], d["localCloseCode"]) == ([], None)
        assert d["closedByMe"] is True and d["wasClean"] is True
    elif kind == "no_handshake":
        for e in index.values():
            d = case(e)
            assert d["wasOpenHandshakeTimeout"] is True
            assert d["wsspec"]["error"]
        assert 4.5 <= r.seconds < 20, r.seconds
        assert "no opening handshake completed" in r.stderr
    elif kind in ("stall_mid_frame", "flood", "huge_frame"):
        for e in index.values():
            d = case(e)
            assert d["wasCloseHandshakeTimeout"] is True, d
            assert (d["closedByMe"], d["droppedByMe"]) == (True, True)
        if kind == "flood":
            d = case(index["1.1.1"])
            assert 1 <= len(d["received"]) <= 1024
            assert d["wsspec"]["eventsTotal"] >= len(d["received"])
            assert d["received"][0][0] == "message"
    elif kind == "http404":
        for e in index.values():
            d = case(e)
            assert d["httpResponse"].startswith("HTTP/1.1 404 Not Found")
            assert "404" in d["wsspec"]["error"]
        assert "404" in r.stderr


@pytest.mark.parametrize("kind", list(BAD))
def test_70_10_misbehaving_server(kind, bad_server, tmp_path):
    cases, expected, rc = BAD[kind]
    srv = bad_server(kind)
    out = str(tmp_path / "report")
    r = run_wsspec(["run", srv.url, "--agent", kind, "--cases", cases,
                    "--report-dir", out], timeout=60)
    assert r.returncode == rc, r
    index = load_index(out)
    assert list(index) == [kind]
    got = verdicts(index[kind])
    if expected is None:
        expected = {i: ("INFORMATIONAL",) * 2 if i in INFORMATIONAL else OK
                    for i in ids(*cases.split(","))}
    elif callable(expected):
        expected = expected()
    assert got == expected, r
    # The summary lists exactly the failing cases.
    assert failing_ids(r.stdout) == \
        {i for i, v in expected.items() if not passes(v)}, r
    check_extra(kind, r, out, index[kind])


def test_70_11_refused_connection(tmp_path):
    url = refused_url()
    r = run_wsspec(["run", url, "--cases", "1.1.1,2.1", "--report-dir",
                    tmp_path], timeout=30)
    assert r.returncode == 2, r
    assert r.stderr == "wsspec run: cannot connect to %s: connection " \
        "refused\n" % url, r
    assert r.seconds < 10
    assert load_index(str(tmp_path)) == {}


def test_70_12_junit_failures(bad_server, tmp_path):
    srv = bad_server("no_pong")
    junit = str(tmp_path / "sub" / "junit.xml")
    r = run_wsspec(["run", srv.url, "--agent", "np", "--cases",
                    "1.1.1,2.1,2.9", "--report-dir", tmp_path, "--junit",
                    junit], timeout=60)
    assert r.returncode == 1, r
    root = ET.parse(junit).getroot()
    cases = {c.get("name").split(" ")[0]: c
             for c in root.findall(".//testcase")}
    assert sorted(cases) == ["1.1.1", "2.1", "2.9"]
    assert cases["1.1.1"].find("failure") is None
    for i in ("2.1", "2.9"):
        f = cases[i].find("failure")
        assert f.get("message") == "behavior FAILED, behaviorClose OK"
        assert "Expected:" in f.text and "Actual:" in f.text


# ------------------------------------------------------------ golden files

GOLDEN_CASES = "1.1.1,1.1.2,2.1,3.1,7.1.1"


def golden_from(report_dir, path, change=None):
    """Writes report_dir's index.json to |path| with other durations and
    report file names (both ignored) and |change| applied."""
    index = load_index(report_dir)
    for agent in index.values():
        for e in agent.values():
            e["duration"] = 987654
            e["reportfile"] = "elsewhere.json"
    if change:
        change(index)
    with open(path, "w") as fh:
        json.dump(index, fh, indent=3, sort_keys=True)
    return path


def test_70_20_expect_matching_golden(echo, tmp_path):
    first = str(tmp_path / "first")
    r = run_wsspec(["run", echo.url, "--agent", "e", "--cases",
                    GOLDEN_CASES, "--report-dir", first])
    assert r.returncode == 0, r
    golden = golden_from(first, str(tmp_path / "golden.json"))
    r = run_wsspec(["run", echo.url, "--agent", "e", "--cases",
                    GOLDEN_CASES, "--report-dir", tmp_path / "second",
                    "--expect", golden])
    assert r.returncode == 0, r
    assert "expect %s: 0 differences" % golden in r.stdout.splitlines()


def test_70_21_expect_changed_verdict(echo, tmp_path):
    first = str(tmp_path / "first")
    r = run_wsspec(["run", echo.url, "--agent", "e", "--cases",
                    GOLDEN_CASES, "--report-dir", first])
    assert r.returncode == 0, r

    def change(index):
        index["e"]["3.1"]["behaviorClose"] = "FAILED"
    golden = golden_from(first, str(tmp_path / "golden.json"), change)
    r = run_wsspec(["run", echo.url, "--agent", "e", "--cases",
                    GOLDEN_CASES, "--report-dir", tmp_path / "second",
                    "--expect", golden])
    assert r.returncode == 1, r
    lines = r.stdout.splitlines()
    assert "3.1: behaviorClose OK, expected FAILED" in lines, r
    assert "expect %s: 1 difference" % golden in lines, r
    # Every case passed: the difference alone fails the run.
    assert failing_ids(r.stdout) == set()


def test_70_22_expect_accepts_known_failures(bad_server, tmp_path):
    """With --expect the golden file is the pass rule: failures recorded in
    it (a server's known bugs) do not fail the run, new ones do."""
    srv = bad_server("no_pong")
    first = str(tmp_path / "first")
    args = ["run", srv.url, "--agent", "np", "--cases", "1.1.1,2.1"]
    r = run_wsspec(args + ["--report-dir", first])
    assert r.returncode == 1, r
    golden = golden_from(first, str(tmp_path / "golden.json"))
    r = run_wsspec(args + ["--report-dir", tmp_path / "b", "--expect",
                           golden])
    assert r.returncode == 0, r
    assert failing_ids(r.stdout) == {"2.1"}

    def change(index):
        index["np"]["2.1"]["behavior"] = "OK"
    golden = golden_from(first, str(tmp_path / "fixed.json"), change)
    r = run_wsspec(args + ["--report-dir", tmp_path / "c", "--expect",
                           golden])
    assert r.returncode == 1, r
    assert "2.1: behavior FAILED, expected OK" in r.stdout.splitlines()


@pytest.mark.parametrize("content", [None, "{not json", '{"a": 1}'])
def test_70_23_expect_unusable_golden(echo, tmp_path, content):
    golden = str(tmp_path / "golden.json")
    if content is not None:
        with open(golden, "w") as fh:
            fh.write(content)
    r = run_wsspec(["run", echo.url, "--cases", "1.1.1", "--report-dir",
                    tmp_path / "r", "--expect", golden])
    assert r.returncode == 2, r
    assert r.stderr.count("\n") == 1 and r.stderr.startswith(
        "wsspec run: --expect %s: " % golden), r


# --------------------------------------------------------------- spec files

def write_spec(path, spec):
    with open(path, "w") as fh:
        if isinstance(spec, str):
            fh.write(spec)
        else:
            json.dump(spec, fh, indent=2)
    return str(path)


def test_70_30_spec_two_servers(echo, tmp_path):
    """Autobahn's fuzzingclient.json: outdir relative to the working
    directory, two agents, cases, exclude-cases, exclude-agent-cases
    (agent and case patterns fully anchored); options and hostname are
    accepted with a note."""
    spec = write_spec(tmp_path / "fuzzingclient.json", {
        "outdir": "./reports/servers",
        "options": {"failByDrop": False},
        "servers": [
            {"agent": "alpha", "url": echo.url,
             "options": {"version": 18}},
            {"agent": "beta", "url": echo.url, "hostname": "example.org",
             "origin": "http://example.org", "protocols": ["chat"]},
        ],
        "cases": ["1.*", "2.1"],
        "exclude-cases": ["1.2.*"],
        "exclude-agent-cases": {"b*": ["1.1.*"], "alp": ["2.1"]},
    })
    r = run_wsspec(["run", "--spec", spec], cwd=str(tmp_path))
    assert r.returncode == 0, r
    index = load_index(str(tmp_path / "reports" / "servers"))
    assert sorted(index) == ["alpha", "beta"]
    assert sorted(index["alpha"], key=id_key) == ids("1.1.*") + ["2.1"]
    assert sorted(index["beta"]) == ["2.1"]
    assert [m.group(1) for m in summary_lines(r.stdout)] == ["alpha", "beta"]
    assert r.stdout.splitlines()[-1] == \
        "report: ./reports/servers/index.html"
    notes = r.stderr.splitlines()
    assert len(notes) == 2, r
    assert all(n.startswith("wsspec run: note: spec ") and
               "accepted and ignored" in n for n in notes), r
    # Autobahn writes the agent's name in the per-case file names.
    assert os.path.exists(str(tmp_path / "reports" / "servers" /
                              "beta_case_2_1.json"))


def test_70_31_spec_prefix_patterns(echo, tmp_path):
    """"1*" is anchored at the start only: it selects 10.1.1 too."""
    spec = write_spec(tmp_path / "s.json", {
        "outdir": str(tmp_path / "out"),
        "servers": [{"agent": "a", "url": echo.url}],
        "cases": ["1*"], "exclude-cases": ["1.*"]})
    r = run_wsspec(["run", "--spec", spec])
    assert r.returncode == 0, r
    assert sorted(load_index(str(tmp_path / "out"))["a"]) == ["10.1.1"]
    # The same from the command line; --report-dir overrides outdir.
    r = run_wsspec(["run", echo.url, "--agent", "a", "--cases", "1*",
                    "--exclude", "1.1.*,1.2.*", "--report-dir",
                    tmp_path / "cli"])
    assert r.returncode == 0, r
    assert sorted(load_index(str(tmp_path / "cli"))["a"]) == ["10.1.1"]


def test_70_32_spec_agent_from_server_header(bad_server, tmp_path):
    """Without an agent the Server header names it, and
    exclude-agent-cases applies to that name."""
    srv = bad_server("good")
    spec = write_spec(tmp_path / "s.json", {
        "outdir": str(tmp_path / "out"),
        "servers": [{"url": srv.url}],
        "cases": ["1.1.1", "2.1"],
        "exclude-agent-cases": {"wsspec-badserver/*": ["2.1"]}})
    r = run_wsspec(["run", "--spec", spec])
    assert r.returncode == 0, r
    index = load_index(str(tmp_path / "out"))
    assert {a: sorted(c) for a, c in index.items()} == \
        {"wsspec-badserver/good": ["1.1.1"]}
    assert index["wsspec-badserver/good"]["1.1.1"]["reportfile"] == \
        "wsspec_badserver_good_case_1_1_1.json"


@pytest.mark.parametrize("spec,why", [
    ({"servers": [{"url": "ws://127.0.0.1:1/"}], "cases": ["1.1.99"]},
     "unknown case id '1.1.99'"),
    ('{"servers": [{"url": "ws://127.0.0.1:1/"}], "cases": ["1.*"', "s.json:"),
    ("[1, 2]", "the top level must be an object"),
    ({"servers": [{"agent": "x"}]}, "servers[0].url"),
    ({"servers": {"url": "ws://127.0.0.1:1/"}}, "servers must be an array"),
    ({"servers": [{"url": "ws://127.0.0.1:1/"}], "cases": "1.*"},
     "cases must be an array of strings"),
    ({"servers": [{"url": "ws://127.0.0.1:1/", "protocols": [1]}]},
     "servers[0].protocols must be an array of strings"),
    ({"url": "ws://127.0.0.1:9001", "cases": ["*"]}, "no servers"),
    ({"servers": [{"url": "http://127.0.0.1:1/"}]}, "invalid URL"),
], ids=["unknown-id", "malformed", "not-object", "no-url", "servers-type",
        "cases-type", "protocols-type", "fuzzingserver-spec", "bad-url"])
def test_70_33_spec_errors(tmp_path, spec, why):
    path = write_spec(tmp_path / "s.json", spec)
    r = run_wsspec(["run", "--spec", path, "--report-dir", tmp_path / "r"],
                   timeout=30)
    assert r.returncode == 2, r
    assert r.stderr.count("\n") == 1 and why in r.stderr, r
    assert not os.path.exists(str(tmp_path / "r"))


def test_70_34_spec_missing_file(tmp_path):
    path = str(tmp_path / "nope.json")
    r = run_wsspec(["run", "--spec", path])
    assert r.returncode == 2, r
    assert r.stderr.startswith("wsspec run: spec %s: " % path), r


# -------------------------------------------------------- exit codes, CLI

@pytest.mark.parametrize("args,why", [
    ([], "no server URL given"),
    (["--bogus", "{url}"], "unknown option '--bogus'"),
    (["{url}", "--jobs", "0"], "--jobs"),
    (["{url}", "--jobs", "many"], "--jobs"),
    (["{url}", "--cases"], "option --cases needs a value"),
    (["{url}", "--cases", "1.1.99"], "unknown case id '1.1.99'"),
    (["{url}", "--cases", "8.*"], "no case matches"),
    (["wss://127.0.0.1:1/"], "wss:// is not supported yet"),
    (["http://127.0.0.1:1/"], "invalid URL"),
    (["{url}", "{url}", "--agent", "a"], "--agent"),
    (["{url}", "--spec", "x.json"], "spec x.json"),
    (["{url}", "tcp://127.0.0.1:7"],
     "tcp://127.0.0.1:7: ws:// and tcp:// or udp:// URLs cannot be mixed"),
], ids=["no-url", "unknown-option", "jobs-0", "jobs-text", "no-value",
        "unknown-id", "no-match", "wss", "bad-scheme", "agent-count",
        "missing-spec", "mixed-schemes"])
def test_70_40_usage_errors(echo, tmp_path, args, why):
    r = run_wsspec(["run", "--report-dir", tmp_path / "r"] +
                   [a.replace("{url}", echo.url) for a in args],
                   cwd=str(tmp_path), timeout=30)
    assert r.returncode == 2, r
    assert r.stdout == "", r
    assert r.stderr.count("\n") == 1 and why in r.stderr, r
    assert not os.path.exists(str(tmp_path / "r"))


def test_70_41_help():
    r = run_wsspec(["run", "--help"])
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.startswith("usage: wsspec run URL... [options]\n")
    for opt in ("--cases", "--exclude", "--agent", "--report-dir", "--junit",
                "--jobs", "--expect", "--strict", "--extended", "--spec",
                "--quiet"):
        assert opt in r.stdout, opt
    r = run_wsspec(["--help"])
    assert "  run " in r.stdout


def test_70_42_exit_code_matrix(echo, bad_server, tmp_path):
    """0 all pass, 1 a case fails, 2 the server cannot be reached; flags
    that change nothing here (--strict, --extended) keep 0."""
    srv = bad_server("no_pong")
    runs = [
        ([echo.url, "--cases", "1.1.1,2.1"], 0),
        ([echo.url, "--cases", "1.1.1", "--strict", "--extended"], 0),
        ([srv.url, "--cases", "2.1"], 1),
        ([srv.url, "--cases", "1.1.1"], 0),
        ([refused_url(), "--cases", "1.1.1"], 2),
        # One reachable, one not: still 2, the reachable one is reported.
        ([echo.url, refused_url(), "--cases", "1.1.1"], 2),
    ]
    for i, (args, rc) in enumerate(runs):
        out = str(tmp_path / str(i))
        r = run_wsspec(["run"] + args + ["--report-dir", out], timeout=30)
        assert r.returncode == rc, r
    assert len(load_index(out)) == 1


def test_70_43_quiet(echo, bad_server, tmp_path):
    r = run_wsspec(["run", echo.url, "--cases", "1.1.1", "--quiet",
                    "--report-dir", tmp_path / "a"])
    assert r.returncode == 0, r
    assert r.stdout == "report: %s/index.html\n" % (tmp_path / "a"), r
    srv = bad_server("no_pong")
    r = run_wsspec(["run", srv.url, "--agent", "np", "--cases", "1.1.1,2.1",
                    "-q", "--report-dir", tmp_path / "b"])
    assert r.returncode == 1, r
    lines = r.stdout.splitlines()
    assert lines[0] == "agent np: 1 failed"
    assert lines[1].startswith("  FAIL 2.1      behavior FAILED, "
                               "behaviorClose OK: ")
    assert lines[2:] == ["report: %s/index.html" % (tmp_path / "b")], r


def test_70_44_progress_only_on_a_terminal(echo, tmp_path):
    """On a terminal stderr gets one progress line, rewritten in place
    with \\r, and erased at the end."""
    master, slave = os.openpty()
    argv = [wsspec_path(), "run", echo.url, "--cases", "1.1.*",
            "--report-dir", str(tmp_path)]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=slave,
                         start_new_session=True, preexec_fn=_die_with_parent)
    os.close(slave)
    data, deadline = b"", time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                data += chunk
            elif p.poll() is not None:
                break
        out = p.communicate(timeout=max(0.1, deadline - time.monotonic()))[0]
    finally:
        os.close(master)
        if p.poll() is None:
            kill_group(p)
    assert p.returncode == 0, data
    text = data.decode()
    steps = re.findall(r"\r\[ *(\d+)/8\] (1\.1\.\d) *", text)
    assert [int(s[0]) for s in steps] == list(range(1, 9)), text
    assert sorted(s[1] for s in steps) == ids("1.1.*")
    assert text.endswith("\r"), text
    assert "\n" not in text
    assert out.decode().startswith("agent ")


def test_70_45_several_urls(echo, bad_server, tmp_path):
    """URLs run one after another, each under its own agent: the Server
    header, else UnknownServer; a name already taken gets "-2"."""
    srv = bad_server("good")
    r = run_wsspec(["run", srv.url, echo.url, echo.url, "--cases", "1.1.1",
                    "--report-dir", tmp_path])
    assert r.returncode == 0, r
    agents = [m.group(1) for m in summary_lines(r.stdout)]
    assert len(agents) == 3 and agents[0] == "wsspec-badserver/good"
    assert agents[2] == agents[1] + "-2"
    assert sorted(load_index(str(tmp_path))) == sorted(agents)
    assert r.stderr == 'wsspec run: note: agent "%s" is taken; %s runs ' \
        'as "%s-2"\n' % (agents[1], echo.url, agents[1]), r


def test_70_46_default_report_dir(echo, tmp_path):
    r = run_wsspec(["run", echo.url, "--cases", "2.1"], cwd=str(tmp_path))
    assert r.returncode == 0, r
    assert r.stdout.splitlines()[-1] == \
        "report: ./reports/servers/index.html"
    assert os.path.exists(str(tmp_path / "reports" / "servers" /
                              "index.json"))
    shutil.rmtree(str(tmp_path / "reports"))
