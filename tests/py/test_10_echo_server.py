"""`wsspec echo` as a process: its listening lines, shutdown on SIGTERM and
SIGINT (Close 1001 to every client, then exit 0), clear one-line errors, and
`wsspec send`."""

import asyncio
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import need, wsspec_path
from wsraw import OP_TEXT, RawWS, frame


def test_10_01_listening_lines(echo_server):
    """Exactly one `listening SCHEME://127.0.0.1:PORT` line per listener,
    with the real port, in the order given."""
    lines = echo_server.stdout_lines()
    listening = [x for x in lines if x.startswith("listening")]
    assert [x[3] for x in echo_server.listeners] == listening[:3]
    assert len(listening) == 3, lines
    for (scheme, host, port, line), want in zip(echo_server.listeners,
                                                ("ws", "tcp", "udp")):
        assert scheme == want
        assert line == "listening %s://127.0.0.1:%d" % (scheme, port)
        assert 0 < port < 65536


def owned_sockets(pid):
    """(proto, local port, state) of every socket the process holds, from
    its fd table matched against /proc/net/{tcp,tcp6,udp,udp6} inodes."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.fullmatch(r"socket:\[(\d+)\]", link)
        if m:
            inodes.add(m.group(1))
    out = set()
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        with open("/proc/%d/net/%s" % (pid, proto)) as fh:
            for line in fh.readlines()[1:]:
                f = line.split()
                if f[9] in inodes:
                    out.add((proto.rstrip("6"), int(f[1].split(":")[1], 16),
                             f[3]))
    return out


def test_10_02_ports_are_live(echo_server):
    """The announced ports are sockets of this very process: TCP ones in
    LISTEN state (0A), the UDP one bound."""
    own = owned_sockets(echo_server.pid)
    assert ("tcp", echo_server.ws[1], "0A") in own, own
    assert ("tcp", echo_server.tcp[1], "0A") in own, own
    assert ("udp", echo_server.udp[1], "07") in own, own
    for addr in (echo_server.ws, echo_server.tcp):
        with socket.create_connection(addr, timeout=2):
            pass


def test_10_03_ipv6(start_echo):
    need("ipv6")
    srv = start_echo("--ws", "[::1]:0", "--tcp", "[::1]:0")
    assert re.fullmatch(r"listening ws://\[::1\]:\d+", srv.listeners[0][3])
    assert re.fullmatch(r"listening tcp://\[::1\]:\d+", srv.listeners[1][3])
    with RawWS.connect("::1", srv.ws[1]) as ws:
        ws.send(frame(OP_TEXT, b"six"))
        assert ws.recv_message() == (OP_TEXT, b"six")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT],
                         ids=["SIGTERM", "SIGINT"])
def test_10_04_signal_closes_clients_1001(start_echo, sig):
    """On SIGTERM/SIGINT every client gets Close 1001 (going away), also one
    in the middle of a fragmented message, and the server exits 0."""
    srv = start_echo("--tcp", "127.0.0.1:0", "--ws", "127.0.0.1:0")
    clients = [RawWS.connect(*srv.ws) for _ in range(3)]
    try:
        clients[0].send(frame(OP_TEXT, b"half", fin=False))
        clients[1].send(frame(OP_TEXT, b"x"))
        assert clients[1].recv_message() == (OP_TEXT, b"x")
        tcp = socket.create_connection(srv.tcp, timeout=2)
        time.sleep(0.05)
        srv.proc.send_signal(sig)
        for ws in clients:
            c = ws.expect_close(timeout=3)
            assert c.code == 1001, c
            # Reply as a well-behaved client would; the server closes TCP.
            try:
                ws.send(frame(0x8, b"\x03\xe9"))
            except OSError:
                pass
        rc = srv.proc.wait(5)
        assert rc == 0, "exit status %s; stderr: %s" % (rc, srv.stderr())
        for ws in clients:
            ws.wait_eof(1)
        tcp.settimeout(2)
        assert tcp.recv(10) == b""
        tcp.close()
    finally:
        for ws in clients:
            ws.close()


def test_10_05_signal_with_no_clients(start_echo):
    """The listening lines mean "ready": a SIGTERM sent the moment they
    appear is handled (exit 0), never fatal. (The handlers must be in place
    before the lines are printed.)"""
    srv = start_echo()
    t0 = time.monotonic()
    rc = srv.stop(signal.SIGTERM, timeout=5)
    assert rc == 0, srv.stderr()
    assert time.monotonic() - t0 < 2


def test_10_06_signal_closes_python_websockets_client(start_echo):
    need("websockets")
    import websockets
    srv = start_echo()

    async def go():
        async with websockets.connect(srv.url, open_timeout=5,
                                      close_timeout=5) as ws:
            await ws.send("before")
            assert await ws.recv() == "before"
            srv.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as e:
                return e.rcvd.code if e.rcvd else None, e.rcvd_then_sent
            return "no close", None
    assert asyncio.run(go()) == (1001, True)
    assert srv.proc.wait(5) == 0


def test_10_07_address_in_use(echo_server):
    """A second server on a busy port exits non-zero with one clear line."""
    p = subprocess.run([wsspec_path(), "echo", "--ws",
                        "127.0.0.1:%d" % echo_server.ws[1]],
                       capture_output=True, text=True, timeout=5)
    assert p.returncode not in (0, None) and p.returncode > 0, p
    err = p.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "in use" in err and str(echo_server.ws[1]) in err, err
    assert p.stdout == ""


@pytest.mark.parametrize("args", [
    ["--bogus"], ["--ws"], ["--ws", "nonsense"], ["--ws", "127.0.0.1:70000"],
    ["--max-message", "-1"], ["--max-message", "ten"],
])
def test_10_08_usage_errors(args):
    need("echo")
    p = subprocess.run([wsspec_path(), "echo"] + args, capture_output=True,
                       text=True, timeout=5)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stderr.strip(), "a usage error says what is wrong"
    assert "listening" not in p.stdout


def test_10_09_wsspec_send(echo):
    need("send")
    for msg in ["hello", "h\u00e9llo \u20ac", "x" * 70000]:
        p = subprocess.run([wsspec_path(), "send", echo.url, msg],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, p.stderr
        assert p.stdout == msg + "\n", p.stdout[:200]


def test_10_10_wsspec_send_refused(echo_server):
    need("send")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        p = subprocess.run([wsspec_path(), "send",
                            "ws://127.0.0.1:%d/" % port, "x"],
                           capture_output=True, text=True, timeout=10)
    assert p.returncode != 0
    assert "refused" in p.stderr.lower(), p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_10_11_no_leftover_children(echo_server):
    """The echo server runs as one process (no forked helpers)."""
    kids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == echo_server.pid:
            kids.append(pid)
    assert kids == []
