"""RFC 862 echo: `wsspec echo --tcp` and `--udp`, checked with plain
sockets and with socat as the client."""

import os
import socket
import subprocess
import threading
import time

import pytest

from conftest import need

SIZES = [1, 2, 1000, 65536, 65537, 1 << 20, (4 << 20) + 5]


def tcp_roundtrip(addr, data: bytes, timeout=20.0) -> bytes:
    """Writes |data| while reading the echo, then half-closes (SHUT_WR) and
    reads until the server closes. Returns everything echoed."""
    with socket.create_connection(addr, timeout=timeout) as s:
        got = []
        err = []

        def writer():
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError as e:
                err.append(e)

        t = threading.Thread(target=writer)
        t.start()
        deadline = time.monotonic() + timeout
        while True:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got.append(chunk)
        t.join(timeout)
        assert not err, err
        return b"".join(got)


@pytest.mark.parametrize("size", SIZES)
def test_60_01_tcp_echo_half_close(echo, size):
    data = os.urandom(size)
    got = tcp_roundtrip(echo.tcp, data)
    assert len(got) == len(data) and got == data


def test_60_02_tcp_many_writes_one_connection(echo):
    with socket.create_connection(echo.tcp, timeout=5) as s:
        for i in range(200):
            msg = b"line %d\n" % i
            s.sendall(msg)
            buf = b""
            while len(buf) < len(msg):
                buf += s.recv(100)
            assert buf == msg
        s.shutdown(socket.SHUT_WR)
        assert s.recv(10) == b"", "server closes after the half-close"


def test_60_03_tcp_empty_session(echo):
    """Connect and half-close at once: no bytes, then the server's FIN."""
    assert tcp_roundtrip(echo.tcp, b"") == b""


def test_60_04_tcp_concurrent_clients(echo):
    blobs = [os.urandom(300_000 + i) for i in range(8)]
    results = [None] * len(blobs)

    def run(i):
        results[i] = tcp_roundtrip(echo.tcp, blobs[i])

    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(blobs))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert [r == b for r, b in zip(results, blobs)] == [True] * len(blobs)


def test_60_05_tcp_slow_reader(start_echo):
    """A client that sends 32 MiB before reading anything: the server must
    apply backpressure (stop reading) rather than buffer without bound or
    drop bytes; everything comes back once the client reads."""
    srv = start_echo("--tcp", "127.0.0.1:0")
    data = os.urandom(32 << 20)
    base = srv.rss_kib()
    with socket.create_connection(srv.tcp, timeout=20) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        done = []

        def writer():
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            done.append(time.monotonic())

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        time.sleep(0.5)  # nobody reads the echo yet: the writer stalls
        stalled_rss = srv.rss_kib()
        assert not done, "32 MiB went in while nothing was read back"
        got = bytearray()
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        t.join(10)
    assert done
    assert len(got) == len(data) and bytes(got) == data
    assert stalled_rss - base < 8 * 1024, \
        "server RSS grew %d KiB while the client stalled" % (stalled_rss - base)


@pytest.mark.parametrize("size", [1, 1000, (1 << 20) + 3])
def test_60_06_tcp_socat_client(echo, size):
    need("socat")
    data = os.urandom(size)
    p = subprocess.run(["socat", "-t", "5", "-T", "10", "-",
                        "TCP:%s:%d" % echo.tcp],
                       input=data, capture_output=True, timeout=20)
    assert p.returncode == 0, p.stderr
    assert len(p.stdout) == size and p.stdout == data


# -------------------------------------------------------------------- UDP

UDP_SIZES = [0, 1, 5, 1472, 8192, 65507]


def udp_socket(timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.bind(("127.0.0.1", 0))
    return s


@pytest.mark.parametrize("size", UDP_SIZES)
def test_60_10_udp_echo(echo, size):
    data = os.urandom(size)
    with udp_socket() as s:
        s.sendto(data, echo.udp)
        got, peer = s.recvfrom(70000)
    assert peer == echo.udp
    assert got == data


def test_60_11_udp_boundaries_kept(echo):
    sizes = [1, 65507, 3, 1472, 0, 9000, 2]
    blobs = [os.urandom(n) for n in sizes]
    with udp_socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        for b in blobs:
            s.sendto(b, echo.udp)
        got = [s.recvfrom(70000)[0] for _ in blobs]
    assert [len(g) for g in got] == sizes
    assert got == blobs


def test_60_12_udp_reply_to_each_sender(echo):
    socks = [udp_socket() for _ in range(5)]
    try:
        for i, s in enumerate(socks):
            s.sendto(b"from %d" % i, echo.udp)
        for i, s in enumerate(socks):
            assert s.recvfrom(100)[0] == b"from %d" % i
    finally:
        for s in socks:
            s.close()


def test_60_13_udp_oversized_datagram_rejected_locally(echo):
    """65508 bytes cannot be sent over IPv4 UDP at all (the RFC 862 limit
    of 65507 is the protocol's, not the server's)."""
    with udp_socket() as s:
        with pytest.raises(OSError):
            s.sendto(b"x" * 65508, echo.udp)


@pytest.mark.parametrize("size", [1, 1472, 65507])
def test_60_14_udp_socat_client(echo, size, tmp_path):
    need("socat")
    data = os.urandom(size)
    src = tmp_path / "datagram"
    src.write_bytes(data)  # a regular file: socat reads it in one read
    with open(src, "rb") as fh:
        p = subprocess.run(["socat", "-b", "65536", "-t", "1", "-T", "3", "-",
                            "UDP:%s:%d" % echo.udp],
                           stdin=fh, capture_output=True, timeout=10)
    assert p.returncode == 0, p.stderr
    assert p.stdout == data


def test_60_15_tcp_and_udp_after_ws_traffic(echo):
    """The three listeners live in one process and do not disturb each
    other: a WebSocket session open while TCP and UDP echo work."""
    from wsraw import OP_TEXT, RawWS, frame
    with RawWS.connect(*echo.ws) as ws:
        assert tcp_roundtrip(echo.tcp, b"tcp") == b"tcp"
        with udp_socket() as s:
            s.sendto(b"udp", echo.udp)
            assert s.recvfrom(10)[0] == b"udp"
        ws.send(frame(OP_TEXT, b"ws"))
        assert ws.recv_message() == (OP_TEXT, b"ws")
