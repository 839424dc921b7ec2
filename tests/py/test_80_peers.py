"""The peer matrix: third-party WebSocket servers graded by `wsspec run`.

Each peer of tests/peers/peers.py is started on 127.0.0.1 (an OS-chosen
port), graded on categories 1-10 with --expect conformance/golden/<peer>.json,
and stopped whatever happened. By default only the quick subset runs (our
server and two strict peers: node ws, Python websockets); WSSPEC_PEERS=all
runs every peer, WSSPEC_PEERS=a,b a list. A peer whose packages are missing
is skipped with the reason (under WSSPEC_STRICT=1 it fails: ci/setup should
have installed it). The tests without a peer check that the golden files and
their notes agree with each other and with the registry.
"""

import functools
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, need, wsspec_path

sys.path.insert(0, os.path.join(ROOT, "tests", "peers"))
import peers as registry  # noqa: E402

NAMES = ["wsspec", "ws", "faye", "websocket-node", "websockets", "aiohttp",
         "tornado", "beast", "civetweb", "lws", "websocketd"]
# The categories the matrix grades: 301 Autobahn cases.
N_CASES = 301
VERDICTS = {"OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED",
            "WRONG CODE", "UNCLEAN", "FAILED BY CLIENT"}


def selected():
    env = os.environ.get("WSSPEC_PEERS", "").strip()
    if env == "all":
        return list(NAMES)
    if env:
        names = [n for n in env.split(",") if n]
        unknown = sorted(set(names) - set(NAMES))
        assert not unknown, "WSSPEC_PEERS names unknown peers: %s" % unknown
        return names
    return list(registry.QUICK)


def case_key(cid):
    return tuple(int(x) for x in cid.split("."))


def load_golden(name):
    with open(registry.get(name).golden) as fh:
        return json.load(fh)


@functools.lru_cache(maxsize=None)
def catalogue_ids():
    """Every case id of categories 1-10, from `wsspec list` (None when the
    binary is missing)."""
    exe = wsspec_path()
    if not os.path.exists(exe):
        return None
    r = subprocess.run([exe, "list", registry.CASES], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return tuple(ln.split()[0] for ln in r.stdout.splitlines()
                 if ln.strip())


# ------------------------------------------------------- notes parsing

# A bullet of a notes file: "- `ID`, `ID`...: reason", possibly over several
# lines (continuations indented by two spaces).
NOTE_BULLET = re.compile(r"^- ((?:`[^`]+`\s*,\s*)*`[^`]+`)\s*:\s*(.*)$", re.S)
ID_TOKEN = re.compile(r"`([^`]+)`")


def expand(token, ids):
    """The case ids a notes token names: an id (6.4.1), a prefix pattern
    (9.3.*), or a range within one subcategory (6.4.1-6.4.4)."""
    if token.endswith("*"):
        return [i for i in ids if i.startswith(token[:-1])]
    if "-" in token:
        lo, hi = token.split("-", 1)
        base_lo, base_hi = lo.rsplit(".", 1)[0], hi.rsplit(".", 1)[0]
        assert base_lo == base_hi, "range across subcategories: " + token
        return [i for i in ids if i.rsplit(".", 1)[0] == base_lo and
                case_key(lo) <= case_key(i) <= case_key(hi)]
    return [token] if token in ids else []


def note_bullets(path):
    """The bullets of a notes file before its first "## " section (the
    later sections explain other things, e.g. unpinned close codes), each
    joined into one line."""
    bullets = []
    with open(path) as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("## "):
                break
            if line.startswith("- "):
                bullets.append(line)
            elif line.startswith("  ") and bullets:
                bullets[-1] += " " + line.strip()
    return bullets


def parse_notes(path, ids):
    """{case id: reason} from the bullets of a notes file, the tokens that
    name no case of |ids|, and the bullets that do not parse."""
    covered, dangling, bad = {}, [], []
    for b in note_bullets(path):
        m = NOTE_BULLET.match(b)
        if not m:
            bad.append(b)
            continue
        for tok in ID_TOKEN.findall(m.group(1)):
            got = expand(tok, ids)
            if not got:
                dangling.append(tok)
            for i in got:
                covered[i] = m.group(2)
    return covered, dangling, bad


# -------------------------------------------------- without any peer

def test_80_00_registry():
    assert registry.NAMES == NAMES
    assert registry.QUICK == ["wsspec", "ws", "websockets"]
    for p in registry.PEERS:
        assert p.jobs >= 1 and p.port in ("print", "proc", "pick"), p.name
        assert p.path.startswith("/"), p.name
        assert os.path.exists(p.golden), "no golden file for " + p.name
        assert os.path.exists(p.notes), "no notes file for " + p.name
    # lws-mirror-protocol broadcasts to every client: one case at a time.
    assert registry.get("lws").jobs == 1
    assert registry.get("lws").protocols == ["lws-mirror-protocol"]


@pytest.mark.parametrize("name", NAMES)
def test_80_01_golden_file(name):
    """Autobahn's index.json layout, agent = peer name, every selected case
    minus the peer's documented exclusions, string-sorted keys; a
    remoteCloseCode is left out only where the registry says why."""
    peer = registry.get(name)
    g = load_golden(name)
    assert list(g) == [name]
    cases = g[name]
    assert list(cases) == sorted(cases), "keys must be string-sorted"
    for cid, v in cases.items():
        assert {"behavior", "behaviorClose", "duration",
                "reportfile"} <= set(v), (cid, v)
        assert v["behavior"] in VERDICTS and v["behaviorClose"] in VERDICTS
        if "remoteCloseCode" not in v:
            assert registry.matches(peer.loose_close, cid), \
                "%s: remoteCloseCode left out but not in loose_close" % cid
    ids = catalogue_ids()
    if ids is None:
        pytest.skip("wsspec is not built: cannot list the cases")
    want = [i for i in ids if not registry.matches(peer.exclude, i)]
    assert len(ids) == N_CASES
    assert sorted(cases, key=case_key) == want


@pytest.mark.parametrize("name", NAMES)
def test_80_02_notes_cover_golden(name):
    """Every non-OK verdict of the golden file (and every excluded case)
    has a reason in the notes, and every case the notes name is one of
    them."""
    peer = registry.get(name)
    cases = load_golden(name)[name]
    ids = catalogue_ids() or sorted(cases, key=case_key)
    covered, dangling, bad = parse_notes(peer.notes, ids)
    assert not bad, "bullets without \"- `ID`, ...: reason\": %s" % bad
    assert not dangling, "notes name no case: %s" % dangling
    non_ok = {cid for cid, v in cases.items()
              if v["behavior"] != "OK" or v["behaviorClose"] != "OK"}
    excluded = {i for i in ids if registry.matches(peer.exclude, i)}
    missing = sorted(non_ok - set(covered), key=case_key)
    assert not missing, "non-OK verdicts without a reason: %s" % missing
    missing = sorted(excluded - set(covered), key=case_key)
    assert not missing, "excluded cases without a reason: %s" % missing
    extra = sorted(set(covered) - non_ok - excluded, key=case_key)
    assert not extra, "notes explain cases that are OK: %s" % extra
    assert all(len(r) >= 10 for r in covered.values()), covered
    if peer.loose_close:
        with open(peer.notes) as fh:
            assert "\n## remoteCloseCode not pinned\n" in fh.read(), \
                "loose_close needs its section in " + peer.notes


def test_80_03_expect_catches_a_difference(tmp_path):
    """The golden comparison can fail: `wsspec echo` graded against a
    golden file that wrongly says 1.1.1 failed exits 1 and names it."""
    need("echo")
    peer = registry.get("wsspec")
    golden = tmp_path / "golden.json"
    cases = load_golden("wsspec")["wsspec"]
    pick = {k: dict(cases[k]) for k in ("1.1.1", "1.1.2")}
    pick["1.1.1"]["behavior"] = "FAILED"
    golden.write_text(json.dumps({"wsspec": pick}))
    res = registry.grade(peer, wsspec_path(), str(tmp_path / "report"),
                         expect=str(golden), cases="1.1.1,1.1.2",
                         log_path=str(tmp_path / "peer.log"), timeout=60)
    assert res["rc"] == 1, res
    lines = res["stdout"].splitlines()
    assert "1.1.1: behavior OK, expected FAILED" in lines, res
    assert not [ln for ln in lines if ln.startswith("1.1.2:")], res


def test_80_04_peer_is_always_stopped(tmp_path):
    """A started peer's whole process group is gone after stop(), and a
    peer that never listens is reported (not waited for) and stopped."""
    need("echo")
    srv = registry.Running(registry.get("wsspec"), wsspec_path(),
                           str(tmp_path / "a.log"))
    pid = srv.proc.pid
    assert srv.port in registry.listening_ports(pid)
    assert srv.stop() is True
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    silent = registry.Peer("silent", "sleep", lambda port: ["sleep", "60"],
                           port="proc", start_timeout=1.0)
    with pytest.raises(registry.PeerError, match="did not accept"):
        registry.Running(silent, log_path=str(tmp_path / "b.log"))
    dead = registry.Peer("dead", "false", lambda port: ["false"])
    with pytest.raises(registry.PeerError, match="exited with status 1"):
        registry.Running(dead, log_path=str(tmp_path / "c.log"))


# ----------------------------------------------------- the peers

@pytest.mark.parametrize("name", NAMES)
def test_80_10_peer_matches_golden(name, tmp_path):
    if name not in selected():
        pytest.skip("not in this run's peers (%s); WSSPEC_PEERS=all or "
                    "ci/conformance grades every peer" % ",".join(selected()))
    need("wsspec")
    peer = registry.get(name)
    why = peer.missing(wsspec_path())
    if why:
        if os.environ.get("WSSPEC_STRICT") == "1":
            pytest.fail("WSSPEC_STRICT=1: peer %s: %s" % (name, why))
        pytest.skip("peer %s: %s" % (name, why))
    report = tmp_path / "report"
    res = registry.grade(peer, wsspec_path(), str(report),
                         expect=peer.golden, log_path=str(tmp_path /
                                                          "peer.log"))
    n_cases = len(load_golden(name)[name])
    print("\n%s: %d cases in %.2f s (--jobs %d, start %.0f ms)" % (
        name, n_cases, res["seconds"], res["jobs"],
        res["start_seconds"] * 1000))
    detail = "\n".join(["argv: " + " ".join(res["argv"]),
                        "stdout:", res["stdout"][-6000:],
                        "stderr:", res["stderr"][-3000:]])
    assert not res["timeout"], "wsspec run hung on %s\n%s" % (name, detail)
    assert res["peer_alive"], "%s died during the run; log %s\n%s" % (
        name, res["peer_log"], detail)
    assert res["rc"] == 0, "%s differs from %s\n%s" % (
        name, os.path.relpath(peer.golden, ROOT), detail)
    with open(report / "index.json") as fh:
        index = json.load(fh)
    assert list(index) == [name]
    assert set(index[name]) == set(load_golden(name)[name])
