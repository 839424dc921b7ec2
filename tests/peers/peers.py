#!/usr/bin/python3
"""The conformance peer matrix: third-party WebSocket servers that
`wsspec run` grades (categories 1-10) against committed golden verdicts.

Every peer runs with its library's defaults behind the smallest echo the
library allows (launchers in this folder), on 127.0.0.1 and a port the OS
picks. The registry below says, per peer, how to build and start it, where
it serves WebSocket, which subprotocol it needs, how many cases may run at
once (--jobs), and what it needs installed. Used by tests/py/test_80_peers.py
and ci/conformance; stdlib only, run with /usr/bin/python3 (Debian's
websockets, aiohttp and tornado live there).

How the port is learnt (`port` of a peer):
  print  the launcher binds port 0 and prints `listening ws://HOST:PORT[/P]`
  proc   the server binds port 0 silently; its listening socket is found
         in /proc/PID/net/tcp{,6} by the inodes of /proc/PID/fd (no race)
  pick   the server refuses port 0 (websocketd takes 0 to mean 80): a free
         port is found by binding a socket to port 0 and closing it, then
         passed to the server. Another process could take the port between
         that close and the server's bind; the window is a few ms on a
         loopback-only test machine, and a lost race shows as a start-up
         error ("exited before accepting"), never as wrong verdicts.
Readiness is TCP connect() polling with a deadline; the server is stopped
with SIGTERM to its process group, then SIGKILL, always (even on failure).

Command line:
  peers.py list                          the registry, one peer a line
  peers.py check [PEER...]               availability (exit 1 if missing)
  peers.py build [PEER...]               build what needs building
  peers.py serve PEER                    start it, print the URL, wait
  peers.py run PEER --wsspec EXE --report-dir DIR [--expect GOLDEN]
           [--log FILE] [--meta FILE] [--cases P,...] [--jobs N]
                                         start, grade, stop; exit = wsspec
                                         run's, 77 when the peer is missing
  peers.py golden PEER RUNDIR...         write the golden file from runs
                                         that agree (3 in a row, for a new
                                         peer or a changed verdict)
"""

import argparse
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.path.join(ROOT, "build", "peers")
GOLDEN = os.path.join(ROOT, "conformance", "golden")
PYTHON = "/usr/bin/python3"
BEAST_EXAMPLES = ("/usr/share/doc/libboost1.74-doc/examples/libs/beast/"
                  "example/websocket/server")

# Categories 1-10 (Autobahn's 1-7, 9, 10: 301 cases); 12/13 need
# permessage-deflate and come later.
CASES = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*"
EXIT_SKIP = 77


class PeerError(Exception):
    """The peer was there but did not start or stop as it should."""


# ------------------------------------------------------------- registry

class Peer:
    """One server of the matrix. |argv| is a function of the port to bind
    (0 for print/proc peers); |needs| lists (kind, what) pairs checked by
    missing(): kind is "exe", "file", "py" (module importable by
    /usr/bin/python3) or "npm" (package in node_modules).

    |exclude|: case patterns not run on this peer, and |loose_close|: cases
    whose remoteCloseCode the golden file leaves out (the comparison then
    ignores it). Both are exceptions with a reason in the peer's notes
    file (conformance/golden/<peer>.notes.md), checked by test_80.
    |run_timeout| bounds one `wsspec run` (a hang is killed and reported)."""

    def __init__(self, name, title, argv, port="print", path="/",
                 protocols=(), jobs=32, needs=(), apt=(), build=None,
                 version=None, start_timeout=10.0, run_timeout=300.0,
                 exclude=(), loose_close=(), about=""):
        self.name = name
        self.title = title
        self.argv = argv
        self.port = port
        self.path = path
        self.protocols = list(protocols)
        self.jobs = jobs
        self.needs = list(needs)
        self.apt = list(apt)
        self.build = build
        self.version = version
        self.start_timeout = start_timeout
        self.run_timeout = run_timeout
        self.exclude = list(exclude)
        self.loose_close = list(loose_close)
        self.about = about

    @property
    def golden(self):
        return os.path.join(GOLDEN, self.name + ".json")

    @property
    def notes(self):
        return os.path.join(GOLDEN, self.name + ".notes.md")

    def missing(self, wsspec=None):
        """None when the peer can run here, else why not (one line)."""
        for kind, what in self.needs:
            why = _check_need(kind, what, wsspec)
            if why:
                how = (" (ci/setup installs %s)" % " ".join(self.apt)
                       if self.apt else "")
                return why + how
        return None

    def describe_version(self, wsspec=None):
        try:
            return self.version(wsspec) if self.version else ""
        except Exception as e:  # a version is decoration, never fatal
            return "unknown (%s)" % e


def _case_key(cid):
    return tuple(int(x) for x in cid.split("."))


def matches(patterns, cid):
    """|cid| is named by one of |patterns|: a case id, a prefix ending in
    '*' (Autobahn's patterns), or a range of one subcategory, 9.1.2-9.1.6
    (both ends included)."""
    for p in patterns:
        if p == cid or (p.endswith("*") and cid.startswith(p[:-1])):
            return True
        if "-" in p:
            lo, hi = p.split("-", 1)
            base = lo.rsplit(".", 1)[0]
            if base == hi.rsplit(".", 1)[0] == cid.rsplit(".", 1)[0] and \
                    _case_key(lo) <= _case_key(cid) <= _case_key(hi):
                return True
    return False


def _check_need(kind, what, wsspec):
    if kind == "exe":
        path = what if os.path.isabs(what) else _which(what)
        if not path or not os.access(path, os.X_OK):
            return "%s is not installed" % what
    elif kind == "file":
        if not os.path.exists(what):
            return "%s is missing" % what
    elif kind == "py":
        if not os.access(PYTHON, os.X_OK):
            return "%s is missing" % PYTHON
        r = subprocess.run([PYTHON, "-c", "import " + what],
                           capture_output=True, timeout=30)
        if r.returncode != 0:
            return "python module %s is missing for %s" % (what, PYTHON)
    elif kind == "npm":
        if not os.path.exists(os.path.join(ROOT, "node_modules", what,
                                           "package.json")):
            return ("node package %s is missing (run `npm ci` in the "
                    "repository root)" % what)
    elif kind == "wsspec":
        if not wsspec or not os.access(wsspec, os.X_OK):
            return "the wsspec binary is not built (%s)" % wsspec
    return None


def _which(cmd):
    for d in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep):
        p = os.path.join(d, cmd)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def _dpkg_version(pkg):
    def get(_wsspec=None):
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                           capture_output=True, text=True, timeout=30)
        return "%s %s" % (pkg, r.stdout.strip()) if r.returncode == 0 \
            else "%s (not from dpkg)" % pkg
    return get


def _npm_version(pkg):
    def get(_wsspec=None):
        with open(os.path.join(ROOT, "node_modules", pkg,
                               "package.json")) as fh:
            return "npm %s %s" % (pkg, json.load(fh)["version"])
    return get


def _wsspec_version(wsspec):
    r = subprocess.run([wsspec, "--version"], capture_output=True,
                       text=True, timeout=30)
    return (r.stdout.strip().splitlines() or ["wsspec"])[0]


def _node(script):
    return lambda port: ["node", os.path.join(HERE, script), str(port)]


def _py(script):
    return lambda port: [PYTHON, os.path.join(HERE, script), str(port)]


# Builds: outputs in build/peers/, rebuilt when a source is newer.

def _stale(out, sources):
    if not os.path.exists(out):
        return True
    t = os.path.getmtime(out)
    return any(os.path.getmtime(s) > t for s in sources)


def _compile(out, sources, argv, log=None):
    if not _stale(out, sources):
        return False
    os.makedirs(BUILD, exist_ok=True)
    tmp = out + ".tmp"
    t0 = time.monotonic()
    r = subprocess.run(argv + ["-o", tmp], capture_output=True, text=True,
                       timeout=900)
    if r.returncode != 0:
        raise PeerError("building %s failed:\n%s" % (
            os.path.basename(out), (r.stdout + r.stderr)[-4000:]))
    os.replace(tmp, out)
    if log:
        log("built %s in %.1f s" % (os.path.relpath(out, ROOT),
                                    time.monotonic() - t0))
    return True


BEAST_BIN = os.path.join(BUILD, "beast_echo_async")
BEAST_SRC = os.path.join(BEAST_EXAMPLES, "async",
                         "websocket_server_async.cpp")
CIVETWEB_BIN = os.path.join(BUILD, "civetweb_echo")
CIVETWEB_SRC = os.path.join(HERE, "civetweb_echo.c")


def _build_beast(log=None):
    # Boost.Beast's own async echo example, unchanged: header-only Beast
    # and Asio, one I/O thread (argv: ADDRESS PORT THREADS).
    return _compile(BEAST_BIN, [BEAST_SRC],
                    ["g++", "-O2", "-std=c++17", "-w", BEAST_SRC,
                     "-pthread"], log)


def _build_civetweb(log=None):
    return _compile(CIVETWEB_BIN, [CIVETWEB_SRC],
                    ["cc", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-O2",
                     "-g", "-Wall", "-Wextra", "-Werror", CIVETWEB_SRC,
                     "-lcivetweb"], log)


# Cases whose remoteCloseCode the runner cannot report reliably yet (see
# the notes files): the peer's Close arrives right before it resets the
# connection while wsspec is still writing, and wsspec drops the
# connection on the write error without reading the Close first ("runner
# bug A"); or wsspec stops reading after the peer's echo broke the
# protocol, where Autobahn reads on ("runner bug B").
FATAL_UTF8_SUBCATEGORIES = [
    "6.3.*", "6.4.*", "6.6.*", "6.8.*", "6.10.*", "6.11.*", "6.12.*",
    "6.13.*", "6.14.*", "6.15.*", "6.16.*", "6.17.*", "6.18.*", "6.19.*",
    "6.20.*", "6.21.*"]

PEERS = [
    Peer("wsspec", "wsspec echo",
         lambda port: [None, "echo", "--ws", "127.0.0.1:%d" % port],
         needs=[("wsspec", None)], version=_wsspec_version, jobs=32,
         about="our own server, the reference: every case must pass"),
    Peer("ws", "node ws", _node("ws_echo.js"),
         needs=[("exe", "node"), ("npm", "ws")], apt=["nodejs"],
         version=_npm_version("ws"), jobs=8,
         about="strict; maxPayload 100 MiB, maxFragments 16384"),
    Peer("faye", "faye-websocket", _node("faye_echo.js"),
         needs=[("exe", "node"), ("npm", "faye-websocket")], apt=["nodejs"],
         version=_npm_version("faye-websocket"), jobs=8,
         about="websocket-driver; maxLength 64 MiB - 1"),
    Peer("websocket-node", "WebSocket-Node", _node("wsnode_echo.js"),
         needs=[("exe", "node"), ("npm", "websocket")], apt=["nodejs"],
         version=_npm_version("websocket"), jobs=8,
         loose_close=["9.1.2-9.1.6", "9.2.2-9.2.6", "9.3.*", "9.4.*",
                      "9.5.*", "9.6.*"],
         about="frame limit 64 KiB, message limit 1 MiB"),
    Peer("websockets", "Python websockets", _py("websockets_echo.py"),
         needs=[("py", "websockets")], apt=["python3-websockets"],
         version=_dpkg_version("python3-websockets"), jobs=8,
         about="strict; max_size 1 MiB"),
    Peer("aiohttp", "aiohttp", _py("aiohttp_echo.py"), path="/ws",
         needs=[("py", "aiohttp")], apt=["python3-aiohttp"],
         version=_dpkg_version("python3-aiohttp"), jobs=8,
         exclude=["4.1.5", "4.2.5"],
         loose_close=["9.1.4-9.1.6", "9.2.4-9.2.6", "9.3.9", "9.4.9"],
         about="route /ws; max_msg_size 4 MiB"),
    # One case at a time: a single-threaded asyncio loop that spends
    # seconds on 9.3.1's 65536 frames starves concurrent cases of their
    # opening handshake (5 s) and closing handshake (1 s) deadlines.
    Peer("tornado", "tornado", _py("tornado_echo.py"), path="/ws",
         needs=[("py", "tornado")], apt=["python3-tornado"],
         version=_dpkg_version("python3-tornado"), jobs=1,
         loose_close=["7.9.*", "7.13.*", "9.1.6", "9.2.6"],
         about="route /ws; websocket_max_message_size 10 MiB"),
    Peer("beast", "Boost.Beast async example",
         lambda port: [BEAST_BIN, "127.0.0.1", str(port), "1"], port="proc",
         needs=[("exe", "g++"), ("file", BEAST_SRC),
                ("file", "/usr/include/boost/beast.hpp")],
         apt=["libboost-dev", "libboost1.74-doc"], build=_build_beast,
         version=_dpkg_version("libboost-dev"), jobs=16,
         loose_close=["7.13.*"],
         about="example/websocket/server/async, 1 thread; read_message_max "
               "16 MiB"),
    Peer("civetweb", "civetweb",
         lambda port: [CIVETWEB_BIN, str(port)],
         needs=[("exe", "cc"), ("file", "/usr/include/civetweb.h")],
         apt=["libcivetweb-dev"], build=_build_civetweb,
         version=_dpkg_version("libcivetweb-dev"), jobs=8,
         exclude=["2.5", "4.1.*", "4.2.*", "5.2", "5.9-5.11", "5.17"],
         loose_close=["5.1", "7.3.2", "7.3.6", "7.5.1", "7.9.*", "7.13.*"] +
         FATAL_UTF8_SUBCATEGORIES,
         about="tests/peers/civetweb_echo.c; validates nothing"),
    Peer("lws", "libwebsockets test-server",
         lambda port: ["libwebsockets-test-server", "--port=%d" % port,
                       "--interface=lo"], port="proc",
         protocols=["lws-mirror-protocol"],
         needs=[("exe", "libwebsockets-test-server")],
         apt=["libwebsockets-test-server"],
         version=_dpkg_version("libwebsockets-test-server"), jobs=1,
         run_timeout=600.0,
         exclude=["1.2.2-1.2.8", "3.1-3.4", "6.2.3", "6.2.4", "9.2.*",
                  "9.4.1", "9.6.*", "9.8.2-9.8.6"],
         loose_close=["5.11", "5.14", "6.4.2", "6.4.4", "7.3.2", "7.13.*"],
         about="lws-mirror-protocol broadcasts to every client: one case at "
               "a time"),
    Peer("websocketd", "websocketd cat",
         lambda port: ["websocketd", "--port=%d" % port,
                       "--address=127.0.0.1", "--loglevel=error", "cat"],
         port="pick", needs=[("exe", "websocketd"), ("exe", "cat")],
         apt=["websocketd"], version=_dpkg_version("websocketd"), jobs=16,
         exclude=["9.2.*", "9.4.*", "9.6.*", "9.8.*"],
         loose_close=FATAL_UTF8_SUBCATEGORIES,
         about="a `cat` process per connection; line-oriented text echo"),
]

BY_NAME = {p.name: p for p in PEERS}
NAMES = [p.name for p in PEERS]
# The quick subset of the default ci/test: our server and two strict peers.
QUICK = ["wsspec", "ws", "websockets"]


def get(name):
    try:
        return BY_NAME[name]
    except KeyError:
        raise SystemExit("unknown peer %r; peers: %s" % (name,
                                                          ", ".join(NAMES)))


def default_wsspec():
    d = os.environ.get("WSSPEC_BUILD", "build/default")
    d = d if os.path.isabs(d) else os.path.join(ROOT, d)
    return os.path.join(d, "wsspec")


# -------------------------------------------------------------- running

def _die_with_parent():
    """preexec_fn: the server gets SIGKILL if its driver dies."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass


def free_port():
    """A port that was free a moment ago (see "pick" above)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _socket_inodes(pid):
    inodes = set()
    for fd in glob.glob("/proc/%d/fd/*" % pid):
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    return inodes


def listening_ports(pid):
    """TCP ports |pid| listens on (from /proc; IPv4 and IPv6)."""
    inodes = _socket_inodes(pid)
    ports = []
    for table in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as fh:
                next(fh)
                for line in fh:
                    f = line.split()
                    if f[3] == "0A" and f[9] in inodes:  # 0A = LISTEN
                        ports.append(int(f[1].rsplit(":", 1)[1], 16))
        except (OSError, StopIteration):
            pass
    return sorted(set(ports))


def _can_connect(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Running:
    """A started peer: url, port, pid, log path; stop() always works and
    says whether the server was still running."""

    def __init__(self, peer, wsspec=None, log_path=None):
        self.peer = peer
        self.proc = None
        self.port = None
        self.url = None
        self.start_seconds = None
        self.died = None  # exit status when it died before stop()
        self.log_path = log_path
        if peer.build:
            peer.build()
        port = free_port() if peer.port == "pick" else 0
        argv = peer.argv(port)
        if argv[0] is None:
            # The peer runs in build/peers: a relative path would not
            # resolve there.
            argv[0] = os.path.abspath(wsspec)
        self.argv = argv
        if self.log_path is None:
            os.makedirs(BUILD, exist_ok=True)
            self.log_path = os.path.join(BUILD, "%s.%d.log" % (
                peer.name, os.getpid()))
        else:
            os.makedirs(os.path.dirname(os.path.abspath(log_path)),
                        exist_ok=True)
        self._log = open(self.log_path, "w+b")
        t0 = time.monotonic()
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=self._log,
                stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent, cwd=BUILD if os.path.isdir(
                    BUILD) else ROOT)
            self._await(port, t0 + peer.start_timeout)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0

    def _await(self, port, deadline):
        """Learns the port, then polls connect() until it is accepted."""
        while True:
            rc = self.proc.poll()
            if rc is not None:
                raise PeerError("%s exited with status %s before accepting; "
                                "log: %s" % (self.peer.name, rc, self.log()))
            if self.port is None:
                self.port = self._learn_port(port)
            if self.port is not None and _can_connect(self.port):
                if self.url is None:
                    self.url = "ws://127.0.0.1:%d%s" % (self.port,
                                                       self.peer.path)
                return
            if time.monotonic() > deadline:
                raise PeerError("%s did not accept within %.0f s (port %s); "
                                "log: %s" % (self.peer.name,
                                             self.peer.start_timeout,
                                             self.port, self.log()))
            time.sleep(0.01)

    def _learn_port(self, port):
        if self.peer.port == "pick":
            return port
        if self.peer.port == "proc":
            ports = listening_ports(self.proc.pid)
            return ports[0] if ports else None
        self._log.flush()
        with open(self.log_path, "rb") as fh:
            for raw in fh:
                line = raw.decode("utf-8", "replace").strip()
                if line.startswith("listening ws://"):
                    hostport = line[len("listening ws://"):].split("/", 1)[0]
                    return int(hostport.rsplit(":", 1)[1])
        return None

    def log(self, tail=3000):
        try:
            with open(self.log_path, "rb") as fh:
                return fh.read().decode("utf-8", "replace")[-tail:]
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5.0):
        """SIGTERM to the process group, then SIGKILL; returns True when
        the server was still running (it did not die on its own)."""
        if self.proc is None:
            self._close_log()
            return False
        was_alive = self.proc.poll() is None
        if not was_alive:
            self.died = self.proc.returncode
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Children (websocketd's `cat`s) may outlive the leader: the group
        # gets SIGKILL in any case.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._close_log()
        return was_alive

    def _close_log(self):
        if self._log and not self._log.closed:
            self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def runner_patterns(patterns, wsspec):
    """|patterns| as `wsspec run` takes them: ranges become their ids."""
    if not any("-" in p for p in patterns):
        return list(patterns)
    r = subprocess.run([wsspec, "list", CASES], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        raise PeerError("wsspec list failed: " + r.stderr.strip())
    ids = [ln.split()[0] for ln in r.stdout.splitlines() if ln.strip()]
    out = [p for p in patterns if "-" not in p]
    for p in patterns:
        if "-" in p:
            out += [i for i in ids if matches([p], i)]
    return out


def run_argv(peer, wsspec, url, report_dir, expect=None, cases=CASES,
             jobs=None, spec_path=None):
    """The `wsspec run` command line for |peer| at |url|. A subprotocol
    needs a fuzzingclient spec file (Autobahn's `protocols`): it is
    written at |spec_path|."""
    argv = [wsspec, "run"]
    if peer.protocols:
        spec = {"servers": [{"agent": peer.name, "url": url,
                             "protocols": peer.protocols}]}
        with open(spec_path, "w") as fh:
            json.dump(spec, fh, indent=2)
        argv += ["--spec", spec_path]
    else:
        argv += [url]
    argv += ["--agent", peer.name, "--cases", cases, "--report-dir",
             report_dir, "--jobs", str(jobs or peer.jobs)]
    if peer.exclude:
        argv += ["--exclude", ",".join(runner_patterns(peer.exclude,
                                                       wsspec))]
    if expect:
        argv += ["--expect", expect]
    return argv


def grade(peer, wsspec, report_dir, expect=None, cases=CASES, jobs=None,
          log_path=None, timeout=None, echo=None):
    """Starts |peer|, runs `wsspec run` on it, stops it. Returns a dict:
    rc (wsspec run's exit status; None on a timeout), stdout, stderr,
    seconds (the run), start_seconds, peer_alive (still running when
    the run ended), peer_log, argv, url, jobs."""
    os.makedirs(report_dir, exist_ok=True)
    spec_path = os.path.join(os.path.dirname(os.path.abspath(report_dir)),
                             "%s.spec.json" % peer.name)
    timeout = timeout or peer.run_timeout
    res = {"peer": peer.name, "jobs": jobs or peer.jobs, "rc": None,
           "timeout": False}
    with Running(peer, wsspec, log_path) as srv:
        res["url"] = srv.url
        res["start_seconds"] = round(srv.start_seconds, 3)
        argv = run_argv(peer, wsspec, srv.url, report_dir, expect, cases,
                        jobs, spec_path)
        res["argv"] = argv
        if echo:
            echo("%s: %s" % (peer.name, " ".join(argv)))
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             start_new_session=True,
                             preexec_fn=_die_with_parent)
        try:
            out, err = p.communicate(timeout=timeout)
            res["rc"] = p.returncode
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            res["timeout"] = True
            err += "\nwsspec run: killed after %.0f s (hang)" % timeout
        res["seconds"] = round(time.monotonic() - t0, 2)
        res["stdout"], res["stderr"] = out, err
        res["peer_alive"] = srv.alive()
        res["peer_log"] = srv.log_path
    return res


# ----------------------------------------------------------------- CLI

def _cmd_list(a):
    for p in PEERS:
        print("%-15s %-5s jobs=%-3d path=%-4s %s%s" % (
            p.name, p.port, p.jobs, p.path,
            ("protocol=%s " % ",".join(p.protocols)) if p.protocols else "",
            p.about))
    return 0


def _cmd_check(a):
    rc = 0
    for name in a.peers or NAMES:
        p = get(name)
        why = p.missing(a.wsspec)
        print("%-15s %s" % (name, "ok  " + p.describe_version(a.wsspec)
                            if why is None else "MISSING: " + why))
        rc |= why is not None
    return rc


def _cmd_build(a):
    rc = 0
    for name in a.peers or NAMES:
        p = get(name)
        if p.build is None:
            continue
        why = p.missing(a.wsspec)
        if why:
            print("%s: not built: %s" % (name, why), file=sys.stderr)
            rc = 1
            continue
        try:
            p.build(log=lambda m: print(m, flush=True))
        except PeerError as e:
            print("%s: %s" % (name, e), file=sys.stderr)
            rc = 1
    return rc


def _cmd_serve(a):
    p = get(a.peer)
    why = p.missing(a.wsspec)
    if why:
        print("%s: %s" % (p.name, why), file=sys.stderr)
        return EXIT_SKIP
    with Running(p, a.wsspec) as srv:
        print("%s %s (pid %d, log %s)" % (p.name, srv.url, srv.proc.pid,
                                          srv.log_path), flush=True)
        try:
            while srv.alive():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


def _cmd_run(a):
    """One peer, for ci/conformance. Writes --meta (JSON) in every case,
    so the published page can say why a peer has no report."""
    p = get(a.peer)
    meta = {"peer": p.name, "title": p.title, "path": p.path,
            "protocols": p.protocols, "jobs": a.jobs or p.jobs,
            "about": p.about, "status": "error"}

    def save():
        if a.meta:
            with open(a.meta, "w") as fh:
                json.dump(meta, fh, indent=2, sort_keys=True)
                fh.write("\n")

    why = p.missing(a.wsspec)
    if why:
        meta.update(status="skipped", reason=why)
        save()
        print("%s: SKIPPED: %s" % (p.name, why), flush=True)
        return EXIT_SKIP
    meta["version"] = p.describe_version(a.wsspec)
    try:
        res = grade(p, a.wsspec, a.report_dir, a.expect, a.cases, a.jobs,
                    a.log, echo=lambda m: print(m, flush=True))
    except (PeerError, OSError) as e:
        meta.update(reason=str(e).splitlines()[0])
        save()
        print("%s: ERROR: %s" % (p.name, e), flush=True)
        return 2
    sys.stdout.write(res["stdout"])
    sys.stderr.write(res["stderr"])
    diffs = [ln for ln in res["stdout"].splitlines()
             if ln.startswith("expect ")]
    meta.update({k: res[k] for k in ("rc", "seconds", "start_seconds", "url",
                                     "timeout", "peer_alive", "jobs")})
    meta["golden"] = a.expect and os.path.relpath(a.expect, ROOT)
    meta["expect"] = diffs[-1] if diffs else None
    meta["differences"] = [ln for ln in res["stdout"].splitlines()
                           if a.expect and _is_diff_line(ln)]
    if res["timeout"]:
        meta.update(status="error", reason="wsspec run hung: killed")
    elif res["rc"] is not None and res["rc"] < 0:
        meta.update(status="error", reason="wsspec run crashed (signal %d)"
                    % -res["rc"])
    elif res["rc"] == 2:
        meta.update(status="error", reason=(res["stderr"].strip().splitlines()
                                            or ["exit 2"])[-1])
    elif not res["peer_alive"]:
        meta.update(status="error",
                    reason="the peer died during the run")
    else:
        meta["status"] = "ran"
    save()
    print("%s: %s in %.2f s (start %.0f ms), wsspec run exit %s%s" % (
        p.name, meta["status"], res["seconds"], res["start_seconds"] * 1000,
        res["rc"], "" if res["peer_alive"] else ", PEER DIED"), flush=True)
    if meta["status"] != "ran":
        return 2
    return res["rc"]  # 0, or 1: some case differs from the golden file


def _cmd_golden(a):
    """Writes conformance/golden/<peer>.json from the index.json of several
    runs (report dirs), after checking that they agree: behavior and
    behaviorClose everywhere, remoteCloseCode outside the peer's
    loose_close cases (left out of the golden file). Prints the non-OK
    verdicts, which the notes file must explain."""
    p = get(a.peer)
    runs = []
    for d in a.runs:
        with open(os.path.join(d, "index.json")) as fh:
            index = json.load(fh)
        if list(index) != [p.name]:
            raise SystemExit("%s: agents %s, want [%s]" % (d, list(index),
                                                           p.name))
        runs.append(index[p.name])
    unstable = []
    for cid in sorted(set().union(*runs), key=_case_key):
        seen = set()
        for r in runs:
            v = r.get(cid)
            if v is None:
                seen.add(None)
                continue
            close = None if matches(p.loose_close, cid) \
                else v.get("remoteCloseCode")
            seen.add((v["behavior"], v["behaviorClose"], close))
        if len(seen) > 1:
            unstable.append("%s: %s" % (cid, sorted(seen, key=str)))
    if unstable:
        print("%s: the runs disagree; no golden file written:" % p.name)
        for u in unstable:
            print("  " + u)
        return 1
    golden = {}
    for cid, v in runs[0].items():
        v = dict(v)
        if matches(p.loose_close, cid):
            v.pop("remoteCloseCode", None)
        golden[cid] = v
    out = a.out or p.golden
    with open(out, "w") as fh:
        json.dump({p.name: dict(sorted(golden.items()))}, fh, indent=3)
        fh.write("\n")
    print("%s: %d runs agree; wrote %s" % (p.name, len(runs),
                                          os.path.relpath(out, ROOT)))
    for cid in sorted(golden, key=_case_key):
        v = golden[cid]
        if v["behavior"] != "OK" or v["behaviorClose"] != "OK":
            print("  %-8s %-13s %-16s %s" % (cid, v["behavior"],
                                             v["behaviorClose"],
                                             v.get("remoteCloseCode", "-")))
    return 0


def _is_diff_line(line):
    """A difference line printed by `wsspec run --expect`."""
    head = line.split(":", 1)[0].strip()
    return bool(head) and head[0].isdigit() and ":" in line


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wsspec", default=default_wsspec(),
                    help="the wsspec binary (default: $WSSPEC_BUILD/wsspec)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list")
    for name in ("check", "build"):
        s = sub.add_parser(name)
        s.add_argument("peers", nargs="*")
    s = sub.add_parser("serve")
    s.add_argument("peer")
    s = sub.add_parser("run")
    s.add_argument("peer")
    s.add_argument("--report-dir", required=True)
    s.add_argument("--expect")
    s.add_argument("--cases", default=CASES)
    s.add_argument("--jobs", type=int)
    s.add_argument("--log", help="the peer's own output")
    s.add_argument("--meta", help="write the run's facts here (JSON)")
    s = sub.add_parser("golden")
    s.add_argument("peer")
    s.add_argument("runs", nargs="+", help="report dirs of runs to compare")
    s.add_argument("--out", help="default: conformance/golden/PEER.json")
    a = ap.parse_args(argv)
    return {"list": _cmd_list, "check": _cmd_check, "build": _cmd_build,
            "serve": _cmd_serve, "run": _cmd_run,
            "golden": _cmd_golden}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
