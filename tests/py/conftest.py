"""pytest fixtures for wsspec's end-to-end tests.

Every server runs on a port the OS picks (port 0): `wsspec echo` prints one
`listening SCHEME://HOST:PORT` line per listener and the fixtures parse
those lines. Every process started here is stopped at teardown, whatever the
test did: SIGTERM, a bounded wait, then SIGKILL of its process group.

Environment:
  WSSPEC_BUILD   build directory holding the `wsspec` binary
                 (default: build/default under the repository root)
  WSSPEC_STRICT  1 = a missing third-party peer (node ws, chromium, socat,
                 python websockets) fails the test instead of skipping it;
                 CI sets it once ci/setup installs every peer
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
LISTEN_RE = re.compile(r"^listening (ws|tcp|udp)://(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)$")


def build_dir() -> str:
    d = os.environ.get("WSSPEC_BUILD", "build/default")
    return d if os.path.isabs(d) else os.path.join(ROOT, d)


def wsspec_path() -> str:
    return os.path.join(build_dir(), "wsspec")


def _probe(argv, timeout=10):
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, (p.stdout + p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)


_features = None


def features() -> dict:
    """What this machine offers, probed once: each value is a version
    string, or None when the feature is missing."""
    global _features
    if _features is not None:
        return _features
    f = {}
    exe = wsspec_path()
    rc, out = _probe([exe, "--version"]) if os.path.exists(exe) else (None, "")
    f["wsspec"] = out.splitlines()[0] if rc == 0 and out else None
    rc, out = _probe([exe, "echo", "--help"]) if f["wsspec"] else (None, "")
    f["echo"] = "yes" if rc == 0 else None
    rc, out = _probe([exe, "send", "--help"]) if f["wsspec"] else (None, "")
    f["send"] = "yes" if rc == 0 else None
    rc, out = _probe([exe, "run", "--help"]) if f["wsspec"] else (None, "")
    f["run"] = "yes" if rc == 0 else None
    node = shutil.which("node")
    f["node"] = _probe([node, "--version"])[1] if node else None
    ws_pkg = os.path.join(ROOT, "node_modules", "ws", "package.json")
    if f["node"] and os.path.exists(ws_pkg):
        import json
        with open(ws_pkg) as fh:
            f["node-ws"] = json.load(fh)["version"]
    else:
        f["node-ws"] = None
    try:
        import websockets  # noqa: F401
        f["websockets"] = websockets.__version__
    except ImportError:
        f["websockets"] = None
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    f["chromium"] = None
    if chromium:
        rc, out = _probe([chromium, "--version"])
        # The Debian launcher may print shell noise on stderr: take the
        # version line itself.
        m = re.search(r"^Chromium \S+.*$", out, re.M)
        f["chromium"] = m.group(0) if rc == 0 and m else None
        f["chromium-path"] = chromium
    socat = shutil.which("socat")
    f["socat"] = None
    if socat:
        rc, out = _probe([socat, "-V"])
        m = re.search(r"socat version (\S+)", out)
        f["socat"] = m.group(1) if m else None
    f["ipv6"] = _ipv6_loopback()
    _features = f
    return f


def _ipv6_loopback():
    import socket
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return "yes"
    except OSError:
        return None


def need(feature: str, why: str = "") -> None:
    """Skips the calling test when |feature| is missing (fails instead under
    WSSPEC_STRICT=1), always with a reason naming what is missing."""
    if features().get(feature):
        return
    hint = {
        "wsspec": "the wsspec binary is not built at %s" % wsspec_path(),
        "echo": "`wsspec echo` is not implemented in %s" % wsspec_path(),
        "send": "`wsspec send` is not implemented in %s" % wsspec_path(),
        "run": "`wsspec run` is not implemented in %s" % wsspec_path(),
        "node": "node is not installed (apt-get install nodejs)",
        "node-ws": "node ws is missing (run `npm ci` in the repository root)",
        "websockets": "python3-websockets is missing for %s" % sys.executable,
        "chromium": "chromium is not installed (apt-get install chromium)",
        "socat": "socat is not installed (apt-get install socat)",
        "ipv6": "no IPv6 loopback ([::1]) on this machine",
    }.get(feature, feature + " is missing")
    msg = hint + (" -- " + why if why else "")
    if os.environ.get("WSSPEC_STRICT") == "1" and feature != "ipv6":
        pytest.fail("WSSPEC_STRICT=1: " + msg)
    pytest.skip(msg)


def pytest_report_header(config):
    f = features()
    lines = [
        "wsspec: %s (%s)" % (f["wsspec"] or "NOT BUILT", wsspec_path()),
        "features: echo=%s send=%s run=%s ipv6=%s" % (
            f["echo"] or "missing", f["send"] or "missing",
            f["run"] or "missing", f["ipv6"] or "missing"),
        "peers: node=%s node-ws=%s websockets=%s socat=%s" % (
            f["node"] or "missing", f["node-ws"] or "missing",
            f["websockets"] or "missing", f["socat"] or "missing"),
        "chromium: %s" % (f["chromium"] or "missing"),
    ]
    if os.environ.get("WSSPEC_STRICT") == "1":
        lines.append("WSSPEC_STRICT=1: missing peers fail")
    return lines


# ------------------------------------------------------------- processes

def _die_with_parent():
    """preexec_fn: the child gets SIGKILL if pytest itself dies (even by
    SIGKILL), so no server or browser outlives the test run."""
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except OSError:
        pass


def stop_process(p: subprocess.Popen, sig=signal.SIGTERM,
                 timeout: float = 5.0):
    """Sends |sig| and waits up to |timeout| s; kills the process group on
    timeout. Returns the exit status (negative = killed by a signal), or
    None when the process had to be killed."""
    if p.poll() is not None:
        return p.returncode
    try:
        p.send_signal(sig)
    except ProcessLookupError:
        pass
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        return None


def kill_group(p: subprocess.Popen) -> None:
    """SIGKILLs the process group led by |p| (helpers are started with
    start_new_session=True) and waits until every member is gone."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            p.kill()
        except ProcessLookupError:
            pass
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            os.killpg(p.pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.02)


class EchoServer:
    """A running `wsspec echo`. Attributes ws, tcp, udp are (host, port)
    tuples for the listeners it announced (None when absent); url is the
    ws:// URL. Output after the listening lines is collected in |output|."""

    def __init__(self, args, tmp_dir, expect=None, start_timeout=5.0):
        self.argv = [wsspec_path(), "echo"] + list(args)
        if expect is None:
            expect = sum(1 for a in args if a in ("--ws", "--tcp", "--udp"))
            expect = expect or 1
        self.stderr_path = os.path.join(
            tmp_dir, "echo-%d-%d.stderr" % (os.getpid(), id(self)))
        self.stderr_file = open(self.stderr_path, "w+b")
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self.stderr_file, start_new_session=True,
            preexec_fn=_die_with_parent)
        self.pid = self.proc.pid
        self.listeners = []
        self.output = []
        self.ws = self.tcp = self.udp = None
        self._lines = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        try:
            self._await_listeners(expect, start_timeout)
        except BaseException:
            self.stop(timeout=2)
            raise

    def _drain(self):
        for raw in self.proc.stdout:
            with self._cond:
                self._lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._lines.append(None)  # EOF
            self._cond.notify_all()

    def _await_listeners(self, expect, timeout):
        deadline = time.monotonic() + timeout
        i = 0
        with self._cond:
            while len(self.listeners) < expect:
                while i >= len(self._lines):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError(
                            "wsspec echo announced %d of %d listeners in "
                            "%.0f s; stderr: %s" % (len(self.listeners),
                                                    expect, timeout,
                                                    self.stderr()))
                    self._cond.wait(left)
                line = self._lines[i]
                i += 1
                if line is None:
                    raise RuntimeError(
                        "wsspec echo exited (status %s) before listening; "
                        "stderr: %s" % (self.proc.wait(5), self.stderr()))
                m = LISTEN_RE.match(line)
                if not m:
                    self.output.append(line)
                    continue
                scheme, host, port = m.group(1), m.group(2), int(m.group(3))
                self.listeners.append((scheme, host, port, line))
                addr = (host.strip("[]"), port)
                if getattr(self, scheme) is None:
                    setattr(self, scheme, addr)

    @property
    def url(self) -> str:
        host, port = self.ws
        return "ws://%s:%d/" % ("[%s]" % host if ":" in host else host, port)

    def stdout_lines(self):
        with self._cond:
            return [x for x in self._lines if x is not None]

    def stderr(self) -> str:
        try:
            with open(self.stderr_path, "rb") as fh:
                return fh.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def rss_kib(self) -> int:
        with open("/proc/%d/status" % self.pid) as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS for pid %d" % self.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        rc = stop_process(self.proc, sig, timeout)
        self._reader.join(2)
        if not self._reader.is_alive():
            self.proc.stdout.close()
        self.stderr_file.close()
        return rc


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory):
    return str(tmp_path_factory.mktemp("wsspec"))


@pytest.fixture(scope="session")
def echo_server(session_tmp):
    """One `wsspec echo` serving WebSocket, TCP and UDP echo for the whole
    session (default options)."""
    need("echo")
    srv = EchoServer(["--ws", "127.0.0.1:0", "--tcp", "127.0.0.1:0",
                      "--udp", "127.0.0.1:0"] +
                     os.environ.get("WSSPEC_ECHO_ARGS", "").split(),
                     session_tmp)
    try:
        yield srv
    finally:
        rc = srv.stop()
    assert rc == 0, "session wsspec echo: exit status %s on SIGTERM; " \
        "stderr: %s" % (rc, srv.stderr())


@pytest.fixture
def echo(echo_server):
    """The session server, checked to be still alive before and after the
    test (a crash caused by the test fails the test)."""
    assert echo_server.alive(), "session echo server died: " + echo_server.stderr()
    yield echo_server
    assert echo_server.alive(), \
        "wsspec echo died during the test: " + echo_server.stderr()
    if os.environ.get("WSSPEC_ECHO_ARGS"):
        sys.stderr.write(echo_server.stderr())


@pytest.fixture
def start_echo(session_tmp):
    """Factory for per-test servers with their own options:
    start_echo("--max-message", "1000") -> EchoServer on ws://127.0.0.1:0.
    Every server started is stopped at teardown."""
    need("echo")
    started = []

    def start(*args, expect=None):
        args = list(args)
        if not any(a in ("--ws", "--tcp", "--udp") for a in args):
            args = ["--ws", "127.0.0.1:0"] + args
        srv = EchoServer(args, session_tmp, expect=expect)
        started.append(srv)
        return srv

    yield start
    bad = []
    for srv in started:
        was_running = srv.alive()
        rc = srv.stop()
        if was_running and rc != 0:
            bad.append("%s: exit status %s on SIGTERM; stderr: %s" % (
                " ".join(srv.argv[1:]), rc, srv.stderr()))
    assert not bad, "\n".join(bad)


@pytest.fixture
def procs():
    """Tracks helper processes (clients, browsers) and kills their process
    groups at teardown. Use procs.popen(...) like subprocess.Popen."""
    class Procs(list):
        def popen(self, argv, **kw):
            kw.setdefault("start_new_session", True)
            kw.setdefault("preexec_fn", _die_with_parent)
            p = subprocess.Popen(argv, **kw)
            self.append(p)
            return p

    ps = Procs()
    yield ps
    for p in ps:
        if p.poll() is None:
            kill_group(p)
        else:
            try:
                os.killpg(p.pid, signal.SIGKILL)  # leftover children
            except (ProcessLookupError, PermissionError):
                pass


# ------------------------------------------------------ the conformance runner

class RunResult:
    """A finished `wsspec run`: returncode, stdout, stderr (text) and the
    wall time in seconds."""

    def __init__(self, argv, returncode, stdout, stderr, seconds):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds

    def __repr__(self):
        return "wsspec %s -> %s in %.2f s\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(self.argv[1:]), self.returncode, self.seconds,
            self.stdout[-3000:], self.stderr[-3000:])


def run_wsspec(args, timeout=60.0, cwd=None, **kw) -> RunResult:
    """Runs `wsspec ARGS...` to completion with a hard |timeout|: a run
    that does not end in time is killed (with its process group) and
    fails the calling test, so a hanging runner can never hang pytest."""
    argv = [wsspec_path()] + [str(a) for a in args]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=cwd, start_new_session=True,
                         preexec_fn=_die_with_parent, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        out, err = p.communicate()
        pytest.fail("wsspec %s did not finish in %.0f s (killed); stderr: %s"
                    % (" ".join(argv[1:]), timeout,
                       err.decode("utf-8", "replace")[-2000:]))
    return RunResult(argv, p.returncode, out.decode("utf-8", "replace"),
                     err.decode("utf-8", "replace"), time.monotonic() - t0)


@pytest.fixture
def bad_server():
    """Factory for the misbehaving servers of badservers.py:
    bad_server("no_pong") -> a running BadServer on 127.0.0.1:<port>.
    Every server is stopped at teardown; an exception inside a server
    (a bug in the test server itself) fails the test."""
    from badservers import BadServer
    started = []

    def start(kind):
        srv = BadServer(kind)
        started.append(srv)
        return srv

    yield start
    errors = []
    for srv in started:
        srv.close()
        errors += srv.errors
    assert not errors, errors
