"""Third-party WebSocket clients against `wsspec echo`: node ws 8 and
Python websockets 10. Each client runs one scenario on one connection
(text, UTF-8 text, empty messages, binary, 2 MiB binary, 1.1 MB text, a
fragmented message, ping/pong, close code round trip) and every step is its
own test item, so a failure names the step."""

import asyncio
import hashlib
import json
import os
import subprocess

import pytest

from conftest import HERE, need

NODE_STEPS = ["text", "text_utf8", "text_empty", "binary", "binary_empty",
              "binary_large", "text_large", "ping", "close"]


def run_node_client(url, protocols=None, timeout=30):
    argv = ["node", os.path.join(HERE, "node", "ws_client.js"), url]
    if protocols:
        argv.append(",".join(protocols))
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       start_new_session=True)
    lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
    assert lines, "node client printed no result (status %d): %s %s" % (
        p.returncode, p.stdout, p.stderr)
    return p.returncode, json.loads(lines[-1])


@pytest.fixture(scope="module")
def node_result(echo_server):
    need("node-ws")
    return run_node_client(echo_server.url)


@pytest.mark.parametrize("step", NODE_STEPS)
def test_20_01_node_ws(node_result, echo, step):
    status, res = node_result
    assert res["error"] is None, res
    assert res["open"] == {"protocol": "", "extensions": ""}, \
        "no subprotocol or extension may be negotiated by default"
    assert step in res["steps"], "step not reached: %s" % json.dumps(res)
    s = res["steps"][step]
    assert s["ok"], "%s failed: %s" % (step, json.dumps(s["detail"]))


def test_20_02_node_ws_all_steps(node_result, echo):
    status, res = node_result
    assert sorted(res["steps"]) == sorted(NODE_STEPS)
    assert status == 0
    # The server answers a Close with the peer's code and an empty reason.
    assert res["close"] == {"code": 4321, "reason": ""}


def test_20_03_node_ws_subprotocol(start_echo):
    need("node-ws")
    srv = start_echo("--subprotocol", "chat.v2", "--subprotocol", "chat.v1")
    status, res = run_node_client(srv.url, ["chat.v1", "other"])
    assert res["open"]["protocol"] == "chat.v1", res
    assert status == 0, res


# ------------------------------------------------------ python websockets

async def websockets_scenario(url):
    import websockets
    steps = {}

    async with websockets.connect(url, max_size=None, open_timeout=5,
                                  close_timeout=5, ping_interval=None) as ws:
        steps["open"] = (ws.subprotocol, ws.response_headers.get_all(
            "Sec-WebSocket-Extensions"))

        async def echo(name, msg, sent=None):
            await ws.send(msg)
            got = await asyncio.wait_for(ws.recv(), 10)
            expect = msg if sent is None else sent
            steps[name] = (type(got) is type(expect) and got == expect,
                           {"type": type(got).__name__, "len": len(got),
                            "sha256": hashlib.sha256(
                                got if isinstance(got, bytes)
                                else got.encode()).hexdigest()[:16],
                            "expect_len": len(expect)})

        await echo("text", "hello")
        await echo("text_utf8", "h\u00e9llo w\u00f6rld \u20ac \U0001d11e")
        await echo("text_empty", "")
        await echo("binary", bytes(range(256)))
        await echo("binary_empty", b"")
        await echo("binary_large", os.urandom(3 * 1024 * 1024 + 1))
        await echo("text_large", "\u00e9\u20ac\U0001d11ea" * 110000)
        # An iterable is sent as one fragmented message (3 frames).
        await echo("text_fragmented", ["frag", "m\u00e9", "nted"],
                   "fragm\u00e9nted")
        await echo("binary_fragmented", [b"\x00\x01", b"", b"\xff"],
                   b"\x00\x01\xff")
        pong = await ws.ping(b"ping-1")
        try:
            await asyncio.wait_for(pong, 5)
            steps["ping"] = (True, "pong")
        except asyncio.TimeoutError:
            steps["ping"] = (False, "no pong in 5 s")
        await ws.close(4321, "bye")
        steps["close"] = ((ws.close_code, ws.close_reason) == (4321, ""),
                          (ws.close_code, ws.close_reason))
    return steps


PY_STEPS = ["text", "text_utf8", "text_empty", "binary", "binary_empty",
            "binary_large", "text_large", "text_fragmented",
            "binary_fragmented", "ping", "close"]


@pytest.fixture(scope="module")
def websockets_result(echo_server):
    need("websockets")
    return asyncio.run(asyncio.wait_for(
        websockets_scenario(echo_server.url), 30))


@pytest.mark.parametrize("step", PY_STEPS)
def test_20_10_python_websockets(websockets_result, echo, step):
    assert websockets_result["open"] == (None, []), \
        "no subprotocol or extension may be negotiated: %r" % (
            websockets_result["open"],)
    assert step in websockets_result, "step not reached"
    ok, detail = websockets_result[step]
    assert ok, "%s failed: %r" % (step, detail)


def test_20_11_python_websockets_subprotocol(start_echo):
    need("websockets")
    import websockets
    srv = start_echo("--subprotocol", "chat.v2", "--subprotocol", "chat.v1")

    async def go():
        async with websockets.connect(srv.url, subprotocols=["x", "chat.v2"],
                                      open_timeout=5) as ws:
            return ws.subprotocol
    assert asyncio.run(go()) == "chat.v2"


def test_20_12_python_websockets_max_message(start_echo):
    """A message over --max-message ends with 1009 seen by the client."""
    need("websockets")
    import websockets
    srv = start_echo("--max-message", "1000")

    async def go():
        async with websockets.connect(srv.url, open_timeout=5,
                                      close_timeout=5) as ws:
            await ws.send("a" * 1000)
            ok = await asyncio.wait_for(ws.recv(), 5) == "a" * 1000
            await ws.send("a" * 1001)
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as e:
                return ok, e.rcvd.code if e.rcvd else None
            return ok, "no close"
    assert asyncio.run(go()) == (True, 1009)
