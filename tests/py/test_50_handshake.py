"""The opening handshake of `wsspec echo` (RFC 6455 Section 4.2): exact
refusal statuses, subprotocol selection, the --origin allow-list, the
handshake and idle timeouts, --max-connections, and many idle clients."""

import resource
import socket
import time

import pytest

from wsraw import (OP_CLOSE, OP_TEXT, HandshakeError, RawWS, accept_for,
                   close_payload, frame, http_exchange, read_head,
                   upgrade_request)


def refused(srv, request: bytes):
    """Sends |request|, returns the response; checks the server closed the
    connection after its answer (no keep-alive on a refused upgrade)."""
    r = http_exchange(*srv.ws, request, timeout=5)
    assert r.header("connection") is not None
    assert "close" in r.header("connection").lower(), r.head
    return r


def req(srv, **kw) -> bytes:
    return upgrade_request(*srv.ws, **kw)


def test_50_01_accept(echo):
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    with socket.create_connection(echo.ws, timeout=5) as s:
        s.sendall(req(echo, key=key, extra=[
            "Sec-WebSocket-Extensions: permessage-deflate; "
            "client_max_window_bits"]))
        r = read_head(s)
    assert r.status_line == "HTTP/1.1 101 Switching Protocols"
    assert r.header("upgrade").lower() == "websocket"
    assert r.header("connection").lower() == "upgrade"
    # RFC 6455 Section 1.3's example key and accept value.
    assert r.headers["sec-websocket-accept"] == ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]
    assert accept_for(key) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert "sec-websocket-protocol" not in r.headers
    assert "sec-websocket-extensions" not in r.headers, \
        "no extension is implemented, so none may be accepted"
    assert r.rest == b""


@pytest.mark.parametrize("kw,status", [
    (dict(ws_version="8"), 426),
    (dict(ws_version="14"), 426),
    (dict(ws_version=None), 426),
    (dict(omit=("sec-websocket-key",)), 400),
    (dict(key="c2hvcnQ="), 400),                        # 5 bytes, not 16
    (dict(key="not base64 at all!!!!!!="), 400),
    (dict(omit=("upgrade",)), 400),
    (dict(omit=("connection",)), 400),
    (dict(omit=("host",)), 400),
    (dict(extra=["Upgrade: h2c"], omit=("upgrade",)), 400),
    (dict(extra=["Connection: keep-alive"], omit=("connection",)), 400),
    (dict(method="POST"), 405),
    (dict(method="HEAD"), 405),
    (dict(version_line="HTTP/1.0"), 400),
    (dict(extra=["X-Big: " + "a" * 9000]), 431),
    (dict(extra=["X-H%d: v" % i for i in range(200)]), 431),
], ids=["version_8", "version_14", "version_missing", "key_missing",
        "key_short", "key_not_base64", "upgrade_missing",
        "connection_missing", "host_missing", "upgrade_not_websocket",
        "connection_no_upgrade", "post", "head", "http_1_0",
        "head_too_large", "too_many_headers"])
def test_50_02_refusal_status(echo, kw, status):
    r = refused(echo, req(echo, **kw))
    assert r.status == status, r.head
    assert r.status_line.startswith("HTTP/1.1 %d " % status)
    if status == 426:
        # RFC 6455 Section 4.2.2: name the version we speak.
        assert r.headers.get("sec-websocket-version") == ["13"], r.head
    if status == 405:
        assert r.header("allow") == "GET", r.head
    assert "sec-websocket-accept" not in r.headers


def test_50_03_garbage_request_line(echo):
    r = refused(echo, b"HELLO\r\n\r\n")
    assert r.status == 400


def test_50_04_server_still_serves_after_refusals(echo):
    with RawWS.connect(*echo.ws) as ws:
        ws.send(frame(OP_TEXT, b"alive"))
        assert ws.recv_message() == (OP_TEXT, b"alive")


def test_50_05_first_frame_in_handshake_packet(echo):
    """Frames sent right behind the request (same write) are processed."""
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    with socket.create_connection(echo.ws, timeout=5) as s:
        s.sendall(req(echo, key=key) + frame(OP_TEXT, b"early"))
        r = read_head(s)
        assert r.status == 101
        ws = RawWS(s, r.rest)
        assert ws.recv_message() == (OP_TEXT, b"early")


# ------------------------------------------------------------ subprotocol

@pytest.fixture(scope="module")
def proto_server(session_tmp):
    from conftest import EchoServer, need
    need("echo")
    srv = EchoServer(["--ws", "127.0.0.1:0", "--subprotocol", "chat.v2",
                      "--subprotocol", "chat.v1"], session_tmp)
    yield srv
    srv.stop()


@pytest.mark.parametrize("offer,chosen", [
    (["chat.v1"], "chat.v1"),
    (["chat.v2"], "chat.v2"),
    (["other", "chat.v1"], "chat.v1"),
    (["chat.v1", "chat.v2"], "chat.v1"),   # the client's preference order
    (["chat.v2", "chat.v1"], "chat.v2"),
    (["CHAT.V1"], None),                   # tokens compare case-sensitively
    (["other"], None),
    (None, None),
], ids=["v1", "v2", "other_v1", "v1_v2", "v2_v1", "case", "none_matching",
        "none_offered"])
def test_50_10_subprotocol(proto_server, offer, chosen):
    with RawWS.connect(*proto_server.ws, protocols=offer) as ws:
        assert ws.response.headers.get("sec-websocket-protocol") == \
            ([chosen] if chosen else None), ws.response.head


def test_50_11_subprotocol_without_option(echo):
    """With no --subprotocol, no subprotocol is ever selected."""
    with RawWS.connect(*echo.ws, protocols=["chat"]) as ws:
        assert "sec-websocket-protocol" not in ws.response.headers


# ----------------------------------------------------------------- origin

@pytest.fixture(scope="module")
def origin_server(session_tmp):
    from conftest import EchoServer, need
    need("echo")
    srv = EchoServer(["--ws", "127.0.0.1:0", "--origin", "http://good.example",
                      "--origin", "https://also.example:8443"], session_tmp)
    yield srv
    srv.stop()


@pytest.mark.parametrize("origin", ["http://good.example",
                                    "https://also.example:8443"])
def test_50_20_origin_allowed(origin_server, origin):
    with RawWS.connect(*origin_server.ws, origin=origin) as ws:
        ws.send(frame(OP_TEXT, b"ok"))
        assert ws.recv_message() == (OP_TEXT, b"ok")


@pytest.mark.parametrize("origin", ["http://evil.example", "null",
                                    "http://good.example:80",
                                    "https://good.example",
                                    "http://good.example.evil"])
def test_50_21_origin_refused(origin_server, origin):
    r = refused(origin_server, req(origin_server, origin=origin))
    assert r.status == 403, r.head


def test_50_22_no_origin_header(origin_server):
    """Non-browser clients send no Origin; the allow-list restricts
    browsers (RFC 6455 Section 10.2) and lets them through."""
    with RawWS.connect(*origin_server.ws) as ws:
        ws.send(frame(OP_TEXT, b"ok"))
        assert ws.recv_message() == (OP_TEXT, b"ok")


# --------------------------------------------------------------- timeouts

def test_50_30_slow_handshake_cut(start_echo):
    """A request head that never completes is cut at --handshake-timeout,
    even when bytes keep trickling in (slowloris)."""
    srv = start_echo("--handshake-timeout", "1s")
    whole = req(srv)
    with socket.create_connection(srv.ws, timeout=5) as idle, \
            socket.create_connection(srv.ws, timeout=5) as trickle:
        t0 = time.monotonic()
        idle.sendall(whole[:20])
        trickle.settimeout(0.05)
        closed = {}
        i = 0
        while len(closed) < 2 and time.monotonic() - t0 < 4:
            if "trickle" not in closed and i < len(whole) - 4:
                try:
                    trickle.sendall(whole[i:i + 1])
                    i += 1
                except OSError:
                    closed["trickle"] = time.monotonic() - t0
            for name, s in (("idle", idle), ("trickle", trickle)):
                if name in closed:
                    continue
                s.settimeout(0.05)
                try:
                    data = s.recv(4096)
                except (TimeoutError, socket.timeout):
                    continue
                except ConnectionResetError:
                    data = b""
                if not data or data.startswith(b"HTTP/1.1 408"):
                    closed[name] = time.monotonic() - t0
                else:
                    pytest.fail("unexpected answer: %r" % data[:200])
    assert set(closed) == {"idle", "trickle"}, closed
    for name, t in closed.items():
        assert 0.8 <= t <= 2.0, "%s cut after %.2f s" % (name, t)


def test_50_34_timeouts_count_from_accept(start_echo):
    """The handshake deadline starts at accept(), not at the event loop's
    last wake-up: a client arriving after the server sat idle for longer
    than --handshake-timeout still gets its handshake (a stale loop clock
    once made such connections time out at once)."""
    srv = start_echo("--handshake-timeout", "0.5")
    for idle in (0.1, 0.8, 1.2):
        time.sleep(idle)
        with RawWS.connect(*srv.ws, timeout=3) as ws:
            ws.send(frame(OP_TEXT, b"late"))
            assert ws.recv_message() == (OP_TEXT, b"late"), idle


def test_50_31_idle_timeout(start_echo):
    srv = start_echo("--idle-timeout", "1000ms")
    with RawWS.connect(*srv.ws) as ws:
        t0 = time.monotonic()
        c = ws.expect_close(timeout=4)
        took = time.monotonic() - t0
        assert 0.8 <= took <= 2.0, took
        assert c.code == 1001, c
        # The server started the closing handshake: it waits for our Close
        # and then closes TCP first (RFC 6455 Section 7.1.1).
        ws.send(frame(OP_CLOSE, close_payload(1001)))
        assert ws.wait_eof(2) < 0.5


def test_50_33_close_timeout(start_echo):
    """A client that never answers the server's Close loses TCP after
    --close-timeout."""
    srv = start_echo("--idle-timeout", "0.3", "--close-timeout", "0.5")
    with RawWS.connect(*srv.ws) as ws:
        assert ws.expect_close(timeout=3).code == 1001
        took = ws.wait_eof(3)
        assert 0.4 <= took <= 1.2, took


def test_50_32_traffic_resets_idle_timeout(start_echo):
    srv = start_echo("--idle-timeout", "1")
    with RawWS.connect(*srv.ws) as ws:
        for i in range(4):
            time.sleep(0.5)
            ws.send(frame(OP_TEXT, b"tick"))
            assert ws.recv_message() == (OP_TEXT, b"tick")


# ------------------------------------------------------------ connections

def test_50_40_max_connections(start_echo):
    srv = start_echo("--max-connections", "2")
    a = RawWS.connect(*srv.ws)
    b = RawWS.connect(*srv.ws)
    try:
        with pytest.raises((HandshakeError, EOFError, ConnectionError)) as ei:
            RawWS.connect(*srv.ws, timeout=3).close()
        if isinstance(ei.value, HandshakeError):
            assert ei.value.response.status == 503
        for ws in (a, b):
            ws.send(frame(OP_TEXT, b"still"))
            assert ws.recv_message() == (OP_TEXT, b"still")
    finally:
        a.close()
        b.close()
    # Slots are freed once clients leave.
    deadline = time.monotonic() + 3
    while True:
        try:
            with RawWS.connect(*srv.ws) as c:
                c.send(frame(OP_TEXT, b"again"))
                assert c.recv_message() == (OP_TEXT, b"again")
            break
        except (HandshakeError, EOFError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_50_41_many_idle_connections(start_echo):
    """Thousands of idle WebSocket connections are fine: one more client
    still gets its echo, and memory stays bounded."""
    n = 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n + 200:
        pytest.skip("RLIMIT_NOFILE hard limit %d < %d" % (hard, n + 200))
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, n + 200), hard))
    srv = start_echo()
    conns = []
    try:
        for i in range(n):
            conns.append(RawWS.connect(*srv.ws))
        with RawWS.connect(*srv.ws) as ws:
            ws.send(frame(OP_TEXT, b"one more"))
            assert ws.recv_message() == (OP_TEXT, b"one more")
        for ws in conns[::400]:
            ws.send(frame(OP_TEXT, b"old"))
            assert ws.recv_message() == (OP_TEXT, b"old")
        rss = srv.rss_kib()
        assert rss < 200 * 1024, "RSS %d KiB with %d idle clients" % (rss, n)
    finally:
        for ws in conns:
            ws.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
