"""Raw-socket checks of every RFC 6455 violation class against
`wsspec echo`: each case opens a fresh connection, sends the bad bytes and
expects the exact close code, a well-formed server Close (unmasked, FIN, no
RSV, at most 125 bytes, UTF-8 reason) and TCP closed promptly after it
(Section 7.1.1: the server closes the TCP connection first). A bare TCP
close never counts as the expected Close.
"""

import os
import socket
import struct
import time

import pytest

from conftest import EchoServer
from wsraw import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT,
                   RSV1, RSV2, RSV3, RawWS, close_payload, frame, mask_bytes)

PROMPT = 1.0  # seconds within which TCP must close after the server's Close


def connect(srv, **kw) -> RawWS:
    return RawWS.connect(*srv.ws, **kw)


def send_all(ws: RawWS, data: bytes) -> None:
    """Sends |data|, tolerating a server that closed before reading it all
    (the Close it sent first is still in our receive queue)."""
    try:
        ws.send(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def check_close(ws: RawWS, code, timeout=5.0):
    """Expects a Close with |code| and then the server's TCP close."""
    c = ws.expect_close(timeout)
    assert c.code == code, "expected Close %s, got %s reason %r" % (
        code, c.code, c.reason)
    c.reason.decode("utf-8")  # raises on a non-UTF-8 reason
    assert len(c.reason) <= 123
    took = ws.wait_eof(PROMPT + 1)
    assert took < PROMPT, "TCP closed %.2f s after the Close" % took
    return c


# (id, bytes to send after the handshake, expected close code)
P = b"payload"
CASES = [
    # RSV bits without a negotiated extension: Section 5.2.
    ("rsv1_text", frame(OP_TEXT, P, rsv=RSV1), 1002),
    ("rsv2_text", frame(OP_TEXT, P, rsv=RSV2), 1002),
    ("rsv3_text", frame(OP_TEXT, P, rsv=RSV3), 1002),
    ("rsv_all_binary", frame(OP_BINARY, P, rsv=7), 1002),
    ("rsv1_ping", frame(OP_PING, P, rsv=RSV1), 1002),
    ("rsv1_continuation", frame(OP_TEXT, b"a", fin=False) +
     frame(OP_CONT, b"b", rsv=RSV1), 1002),
    # Unmasked client frames: Section 5.1 / 5.3.
    ("unmasked_text", frame(OP_TEXT, P, mask=False), 1002),
    ("unmasked_binary_empty", frame(OP_BINARY, b"", mask=False), 1002),
    ("unmasked_ping", frame(OP_PING, P, mask=False), 1002),
    ("unmasked_close", frame(OP_CLOSE, close_payload(1000), mask=False), 1002),
    # Fragmented control frames: Section 5.5.
    ("fragmented_ping", frame(OP_PING, P, fin=False), 1002),
    ("fragmented_pong", frame(OP_PONG, P, fin=False), 1002),
    ("fragmented_close", frame(OP_CLOSE, close_payload(1000), fin=False), 1002),
    # Control payload > 125: Section 5.5.
    ("ping_126", frame(OP_PING, b"p" * 126), 1002),
    ("pong_126", frame(OP_PONG, b"p" * 126), 1002),
    ("close_126", frame(OP_CLOSE, close_payload(1000, b"r" * 124)), 1002),
    ("ping_65536_claimed", frame(OP_PING, b"", length=65536), 1002),
    # Continuation without a started message: Section 5.4.
    ("continuation_first", frame(OP_CONT, P), 1002),
    ("continuation_first_nofin", frame(OP_CONT, P, fin=False), 1002),
    ("continuation_after_complete", frame(OP_TEXT, b"a") +
     frame(OP_CONT, b"b"), 1002),
    # A new data frame inside a fragmented message: Section 5.4.
    ("text_inside_text", frame(OP_TEXT, b"a", fin=False) +
     frame(OP_TEXT, b"b"), 1002),
    ("binary_inside_text", frame(OP_TEXT, b"a", fin=False) +
     frame(OP_BINARY, b"b"), 1002),
    ("text_inside_binary_after_ping", frame(OP_BINARY, b"a", fin=False) +
     frame(OP_PING, b"x") + frame(OP_TEXT, b"b", fin=False), 1002),
    # Invalid UTF-8 in text: Section 8.1 -> 1007.
    ("utf8_ff", frame(OP_TEXT, b"ab\xffcd"), 1007),
    ("utf8_overlong", frame(OP_TEXT, b"\xc0\xaf"), 1007),
    ("utf8_overlong_3", frame(OP_TEXT, b"\xe0\x80\xaf"), 1007),
    ("utf8_surrogate", frame(OP_TEXT, b"\xed\xa0\x80"), 1007),
    ("utf8_above_10ffff", frame(OP_TEXT, b"\xf4\x90\x80\x80"), 1007),
    ("utf8_lone_continuation", frame(OP_TEXT, b"a\x80"), 1007),
    ("utf8_truncated_at_end", frame(OP_TEXT, b"ok\xe2\x82"), 1007),
    ("utf8_invalid_across_fragments", frame(OP_TEXT, b"\xe2\x82", fin=False)
     + frame(OP_CONT, b"\x28"), 1007),
    ("utf8_truncated_across_fragments", frame(OP_TEXT, b"a", fin=False) +
     frame(OP_CONT, b"\xf0\x9f", fin=False) + frame(OP_CONT, b"\x98"), 1007),
    # Close frame payload rules: Sections 5.5.1 and 7.4.
    ("close_1_byte", frame(OP_CLOSE, b"\x03"), 1002),
    ("close_reason_bad_utf8", frame(OP_CLOSE, close_payload(1000, b"\xff")),
     1007),
    ("close_reason_truncated_utf8",
     frame(OP_CLOSE, close_payload(1000, b"bye\xe2\x82")), 1007),
    # Lengths: Section 5.2 (minimal form; most significant bit zero).
    ("length_16bit_for_5", frame(OP_TEXT, b"hello", form=16), 1002),
    ("length_16bit_for_125", frame(OP_BINARY, b"b" * 125, form=16), 1002),
    ("length_64bit_for_5", frame(OP_TEXT, b"hello", form=64), 1002),
    ("length_64bit_for_65535", frame(OP_BINARY, b"b" * 65535, form=64), 1002),
    ("length_64bit_msb", frame(OP_BINARY, b"", length=1 << 63, form=64), 1002),
    ("length_64bit_all_ones", frame(OP_BINARY, b"", length=(1 << 64) - 1,
                                    form=64), 1002),
]
# Reserved opcodes 3-7 and 11-15: Section 5.2.
CASES += [("opcode_%d" % op, frame(op, P), 1002)
          for op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15)]
CASES += [("opcode_%d_nofin" % op, frame(op, P, fin=False), 1002)
          for op in (3, 11)]
# Close codes that must not appear on the wire: Section 7.4.
CASES += [("close_code_%d" % code, frame(OP_CLOSE, close_payload(code)), 1002)
          for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000,
                       2999, 5000, 65535)]


@pytest.mark.parametrize("data,code", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_40_01_violation(echo, data, code):
    with connect(echo) as ws:
        send_all(ws, data)
        check_close(ws, code)


@pytest.mark.parametrize("split", [1, 3, 7])
def test_40_02_violation_split_delivery(echo, split):
    """The same violation sent in tiny pieces (the server must not depend
    on how TCP splits the bytes): RSV1 text, then a bad close code."""
    for data, code in ((frame(OP_TEXT, P, rsv=RSV1), 1002),
                       (frame(OP_CLOSE, close_payload(1004, b"x")), 1002),
                       (frame(OP_TEXT, b"abc\xed\xa0\x80", fin=True), 1007)):
        with connect(echo) as ws:
            ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(0, len(data), split):
                ws.send(data[i:i + split])
                time.sleep(0.002)
            check_close(ws, code)


def test_40_03_utf8_fail_fast_mid_frame(echo):
    """Invalid UTF-8 is detected as soon as the bad byte arrives: half a
    text frame whose bytes so far contain 0xFF gets Close 1007 although the
    rest of the frame was never sent (RFC 6455 Section 8.1, "fail fast")."""
    payload = b"valid \xffinvalid, and much more text after it" * 10
    key = os.urandom(4)
    whole = frame(OP_TEXT, payload, key=key)
    head_len = len(whole) - len(payload)
    with connect(echo) as ws:
        ws.send(whole[:head_len + 8])  # 6 good bytes, 0xFF, 'i'
        check_close(ws, 1007, timeout=3)


def test_40_04_utf8_fail_fast_first_fragment(echo):
    """A bad byte in the first fragment closes before the message ends."""
    with connect(echo) as ws:
        ws.send(frame(OP_TEXT, b"abc\xc0\xafdef", fin=False))
        check_close(ws, 1007, timeout=3)


def test_40_05_huge_length_no_allocation(start_echo):
    """A frame header claiming 2^63-1 bytes gets 1009 at once, and the
    server does not allocate for it: its RSS stays within 4 MiB."""
    srv = start_echo()
    before = srv.rss_kib()
    for op in (OP_BINARY, OP_TEXT):
        with connect(srv) as ws:
            ws.send(frame(op, b"", length=(1 << 63) - 1, form=64))
            check_close(ws, 1009)
    with connect(srv) as ws:  # a 16 MiB claim against the 64 MiB default
        ws.send(frame(OP_BINARY, b"", length=16 << 20, form=64))
        ws.send(b"x" * 1000)
        with pytest.raises(TimeoutError):
            ws.recv_frame(timeout=0.3)  # waiting for the rest: no reply
    after = srv.rss_kib()
    assert after - before < 4096, "RSS grew from %d to %d KiB" % (before,
                                                                  after)


@pytest.fixture(scope="module")
def limited(session_tmp):
    from conftest import need
    need("echo")
    srv = EchoServer(["--ws", "127.0.0.1:0", "--max-message", "1000"],
                     session_tmp)
    yield srv
    srv.stop()


def test_40_06_max_message_exact_fits(limited):
    with connect(limited) as ws:
        ws.send(frame(OP_TEXT, b"a" * 1000))
        assert ws.recv_message() == (OP_TEXT, b"a" * 1000)
        ws.send(frame(OP_BINARY, b"a" * 400, fin=False) +
                frame(OP_CONT, b"b" * 600))
        assert ws.recv_message() == (OP_BINARY, b"a" * 400 + b"b" * 600)


@pytest.mark.parametrize("data", [
    frame(OP_TEXT, b"a" * 1001),
    frame(OP_BINARY, b"", length=1 << 20),             # header only
    frame(OP_BINARY, b"a" * 600, fin=False) + frame(OP_CONT, b"b" * 401),
    frame(OP_TEXT, b"a" * 999, fin=False) + frame(OP_CONT, b"", fin=False)
    + frame(OP_CONT, b"bc"),
], ids=["one_frame", "header_only", "two_fragments", "three_fragments"])
def test_40_07_max_message_exceeded(limited, data):
    with connect(limited) as ws:
        send_all(ws, data)
        check_close(ws, 1009)


def test_40_08_max_frame(start_echo):
    srv = start_echo("--max-frame", "100")
    with connect(srv) as ws:
        ws.send(frame(OP_BINARY, b"a" * 100, fin=False) +
                frame(OP_CONT, b"b" * 100))
        assert ws.recv_message() == (OP_BINARY, b"a" * 100 + b"b" * 100)
        ws.send(frame(OP_BINARY, b"c" * 101))
        check_close(ws, 1009)


# ---------------------------------------------------------- valid traffic

def test_40_20_fragmented_echo_with_interleaved_ping(echo):
    with connect(echo) as ws:
        ws.send(frame(OP_TEXT, b"fra", fin=False) + frame(OP_PING, b"p1") +
                frame(OP_CONT, b"gm\xc3", fin=False) +
                frame(OP_CONT, b"\xa9nt"))
        f = ws.recv_frame()
        assert f == (True, 0, OP_PONG, False, b"p1")
        assert ws.recv_message() == (OP_TEXT, "fragm\u00e9nt".encode())


def test_40_21_server_frames_are_unmasked(echo):
    with connect(echo) as ws:
        ws.send(frame(OP_BINARY, bytes(range(200))))
        f = ws.recv_frame()
        assert (f.fin, f.rsv, f.opcode, f.masked) == (True, 0, OP_BINARY,
                                                       False)
        assert f.payload == bytes(range(200))


def test_40_22_ping_125_and_empty(echo):
    with connect(echo) as ws:
        ws.send(frame(OP_PING, b"\x00\xff" * 62 + b"z"))
        assert ws.recv_frame() == (True, 0, OP_PONG, False,
                                   b"\x00\xff" * 62 + b"z")
        ws.send(frame(OP_PING, b""))
        assert ws.recv_frame() == (True, 0, OP_PONG, False, b"")


def test_40_23_unsolicited_pong_ignored(echo):
    with connect(echo) as ws:
        ws.send(frame(OP_PONG, b"nobody asked") + frame(OP_TEXT, b"still"))
        assert ws.recv_frame() == (True, 0, OP_TEXT, False, b"still")


def test_40_24_echo_before_violation_is_sent(echo):
    """Messages completed before the bad frame are still echoed, then the
    Close follows (Autobahn 3.2 / 5.15 behaviour)."""
    with connect(echo) as ws:
        ws.send(frame(OP_TEXT, b"first") + frame(OP_TEXT, b"x", rsv=RSV2))
        assert ws.recv_frame() == (True, 0, OP_TEXT, False, b"first")
        check_close(ws, 1002)


@pytest.mark.parametrize("code,reason", [
    (1000, b""), (1000, b"bye"), (1001, b""), (1003, b""), (1007, b""),
    (1011, b""), (1014, b""), (3000, b"app"), (4999, "\u00e9t\u00e9".encode()),
    (1000, b"r" * 123),
], ids=lambda x: str(x) if isinstance(x, int) else "r%d" % len(x))
def test_40_25_close_code_round_trip(echo, code, reason):
    """The server answers a valid Close with the peer's code (Section
    5.5.1) and then closes TCP promptly."""
    with connect(echo) as ws:
        ws.send(frame(OP_CLOSE, close_payload(code, reason)))
        assert check_close(ws, code).reason == b"", "the reason is not echoed"


def test_40_26_empty_close(echo):
    with connect(echo) as ws:
        ws.send(frame(OP_CLOSE, b""))
        c = ws.expect_close()
        assert (c.code, c.reason) == (None, b""), \
            "an empty Close is answered with an empty Close"
        assert ws.wait_eof(PROMPT + 1) < PROMPT


def test_40_27_nothing_read_after_close(echo):
    """Frames after the client's Close are ignored: no echo of them."""
    with connect(echo) as ws:
        ws.send(frame(OP_CLOSE, close_payload(1000)) + frame(OP_TEXT, b"late"))
        check_close(ws, 1000)


def test_40_28_large_message_echo(echo):
    data = os.urandom(5 << 20)
    with connect(echo) as ws:
        ws.send(frame(OP_BINARY, data[:3 << 20], fin=False) +
                frame(OP_CONT, data[3 << 20:]))
        op, got = ws.recv_message(timeout=20)
        assert op == OP_BINARY and len(got) == len(data) and got == data


def test_40_29_many_messages_one_write(echo):
    msgs = [("m%05d" % i).encode() for i in range(2000)]
    with connect(echo) as ws:
        ws.send(b"".join(frame(OP_TEXT, m) for m in msgs))
        got = [ws.recv_message()[1] for _ in msgs]
        assert got == msgs


def test_40_30_mask_applied_per_frame(echo):
    """Each frame has its own key; the server must unmask with it."""
    with connect(echo) as ws:
        ws.send(frame(OP_TEXT, b"abcd", key=b"\x00\x00\x00\x00") +
                frame(OP_TEXT, b"abcd", key=b"\xff\x01\x80\x7f"))
        assert ws.recv_message() == (OP_TEXT, b"abcd")
        assert ws.recv_message() == (OP_TEXT, b"abcd")


def test_40_31_masking_sanity():
    """The test client's own masking matches RFC 6455 Section 5.7."""
    # "Hello" masked with 37 fa 21 3d, from Section 5.7.
    assert frame(OP_TEXT, b"Hello", key=bytes.fromhex("37fa213d")) == \
        bytes.fromhex("818537fa213d7f9f4d5158")
    assert mask_bytes(b"\x00" * 5, b"\x01\x02\x03\x04") == b"\x01\x02\x03\x04\x01"
    assert struct.unpack("!H", close_payload(1000))[0] == 1000
