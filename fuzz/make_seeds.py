#!/usr/bin/python3
"""make_seeds.py: writes the hand-written seed inputs of every fuzz target.

    /usr/bin/python3 fuzz/make_seeds.py [--check]

Each seed goes to corpus/<target>/<sha256 of its content> and is listed,
with the code path it targets, in fuzz/seeds.md (generated, do not edit).
fuzz/seeds.list holds the names of every hand-written seed, one
"<target>/<sha256>" per line; ci/fuzz keeps those through corpus
minimisation. Inputs grown by fuzzing live in the same directories,
also named by SHA-256, and are not listed.

--check exits non-zero if a seed would change or is missing (CI: the
checked-in seeds are what this script makes). Standard library only.
"""

import base64
import hashlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

SEEDS = {}  # target -> list of (name, path, bytes)


def seed(target, name, path, data):
    SEEDS.setdefault(target, []).append((name, path, bytes(data)))


# --------------------------------------------------------------- frames

OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
KEY = b"\x37\xfa\x21\x3d"  # RFC 6455 Section 5.7


def frame(op, payload=b"", fin=True, rsv=0, mask=None, form=None,
          length=None):
    """One frame; |form| forces 7, 16 or 64; |length| lies about the
    payload length (the bytes are |payload| regardless)."""
    n = len(payload) if length is None else length
    if form is None:
        form = 7 if n <= 125 else 16 if n <= 0xFFFF else 64
    b0 = (0x80 if fin else 0) | rsv | op
    m = 0x80 if mask is not None else 0
    if form == 7:
        head = bytes([b0, m | n])
    elif form == 16:
        head = bytes([b0, m | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([b0, m | 127]) + n.to_bytes(8, "big")
    if mask is not None:
        head += mask
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return head + payload


def cframe(op, payload=b"", **kw):
    """A frame as a client sends it: masked."""
    kw.setdefault("mask", KEY)
    return frame(op, payload, **kw)


def close_body(code, reason=b""):
    return code.to_bytes(2, "big") + reason


def chunks(stream, cuts):
    """The frame targets' chunk records: each cut is a chunk length
    (1..255); the rest goes in a final 0 record."""
    out, pos = bytearray(), 0
    for c in cuts:
        if pos >= len(stream):
            break
        c = min(c, len(stream) - pos, 255)
        out += bytes([c]) + stream[pos:pos + c]
        pos += c
    if pos < len(stream):
        out += b"\x00" + stream[pos:]
    return bytes(out)


def ones(n):
    return [1] * n


# ------------------------------------------------------ fuzz_frame_decode

def fd_cfg(client=False, rsv=0, streaming=False, auto_pong=True,
           nonmin=False, skip_unmask=False, frame_max=0, msg_max=0,
           fail_event=0, frag=0, chunk=0, close_reply=0, echo=True,
           enomem=None):
    """Config bytes of fuzz_frame_decode. frame_max: index into none, 16,
    200, 70000; msg_max: 64 MiB, none, 100, 70000; frag: none, 16, 100,
    1000; chunk: 64 KiB, all, 20, 130."""
    b0 = (1 if client else 0) | ((rsv >> 4) << 1) | (streaming << 4) | \
        (auto_pong << 5) | (nonmin << 6) | (skip_unmask << 7)
    b1 = frame_max | (msg_max << 2) | (fail_event << 4)
    b2 = frag | (chunk << 2) | (close_reply << 4) | (echo << 6)
    b3 = 0 if enomem is None else 0xC0 | enomem
    return bytes([b0, b1, b2, b3])


def frame_decode_seeds():
    t = "fuzz_frame_decode"
    hello_m = cframe(OP_TEXT, b"Hello")
    hello = frame(OP_TEXT, b"Hello")
    seed(t, "rfc-5.7-masked-hello", "RFC 6455 5.7 example: masked text, "
         "server fast path (whole frame in one call)",
         fd_cfg() + chunks(hello_m, []))
    seed(t, "rfc-5.7-unmasked-hello-client", "RFC 5.7: unmasked text to a "
         "client, fast path without a key",
         fd_cfg(client=True) + chunks(hello, []))
    frag = frame(OP_TEXT, b"Hel", fin=False) + frame(OP_CONT, b"lo")
    seed(t, "rfc-5.7-fragmented-bytewise", "RFC 5.7 fragmented text fed a "
         "byte at a time: gather_head for every header byte, assembly "
         "across calls", fd_cfg(client=True) + chunks(frag, ones(12)))
    pp = cframe(OP_PING, b"Hello") + cframe(OP_PONG, b"Hello")
    seed(t, "rfc-5.7-ping-pong", "RFC 5.7 ping and pong: auto_pong reply, "
         "on_ping/on_pong", fd_cfg() + chunks(pp, [3, 4]))
    seed(t, "ping-no-autopong", "Ping with auto_pong off: no reply queued",
         fd_cfg(auto_pong=False) + chunks(cframe(OP_PING, b"x" * 125), []))
    b256 = bytes(range(256))
    seed(t, "rfc-5.7-256-bytes-split-ext", "RFC 5.7 256-byte binary "
         "(16-bit length) cut inside the extended length and the key",
         fd_cfg() + chunks(cframe(OP_BIN, b256), [1, 2, 1, 3, 50]))
    seed(t, "len16-client", "16-bit length to a client, cut in the payload",
         fd_cfg(client=True) + chunks(frame(OP_BIN, b256 * 2), [4, 100]))
    seed(t, "len64-nonminimal", "64-bit form for 5 bytes: "
         "LENGTH_NOT_MINIMAL at byte 1",
         fd_cfg() + chunks(cframe(OP_BIN, b"abcde", form=64), []))
    seed(t, "len64-nonminimal-allowed", "64-bit form for 5 bytes with "
         "allow_nonminimal_length: accepted",
         fd_cfg(nonmin=True) + chunks(cframe(OP_TEXT, b"abcde", form=64),
                                      [3]))
    seed(t, "len16-nonminimal", "16-bit form for 100 bytes: "
         "LENGTH_NOT_MINIMAL", fd_cfg(client=True) +
         chunks(frame(OP_BIN, b"q" * 100, form=16), [2, 1]))
    seed(t, "len64-msb", "64-bit length with the top bit: LENGTH_MSB at "
         "byte 2", fd_cfg(client=True) +
         chunks(bytes([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1]), [5]))
    seed(t, "len64-huge", "2^62 announced: frame never completes, no "
         "allocation (decoder tracks 64 bits)",
         fd_cfg(client=True) + chunks(bytes([0x82, 127, 0x40, 0, 0, 0, 0,
                                             0, 0, 0]) + b"abc", []))
    seed(t, "rsv1-not-allowed", "RSV1 without an extension: RSV_BITS",
         fd_cfg() + chunks(cframe(OP_TEXT, b"a", rsv=0x40), []))
    seed(t, "rsv-allowed", "RSV1..3 allowed: frames with RSV pass (fast "
         "path masks them out of the lookup)", fd_cfg(rsv=0x70) +
         chunks(cframe(OP_BIN, b"ab", rsv=0x70) +
                cframe(OP_PING, b"", rsv=0x40), [1]))
    seed(t, "reserved-opcode-3", "opcode 3: RESERVED_OPCODE at byte 0",
         fd_cfg() + chunks(cframe(3, b"x"), []))
    seed(t, "reserved-opcode-b-split", "opcode 0xB byte by byte",
         fd_cfg(client=True) + chunks(frame(0xB, b""), [1]))
    seed(t, "ping-not-fin", "Ping with FIN=0: CONTROL_FRAGMENTED",
         fd_cfg() + chunks(cframe(OP_PING, b"x", fin=False), []))
    seed(t, "ping-126", "Ping with 7-bit length 126: CONTROL_TOO_LONG at "
         "byte 1 even with allow_nonminimal_length",
         fd_cfg(nonmin=True) + chunks(cframe(OP_PING, b"y" * 126), [2]))
    seed(t, "unmasked-to-server", "unmasked frame to a server: "
         "UNMASKED_CLIENT_FRAME", fd_cfg() + chunks(hello, []))
    seed(t, "masked-to-client", "masked frame to a client: "
         "MASKED_SERVER_FRAME", fd_cfg(client=True) + chunks(hello_m, [1]))
    seed(t, "frame-too-big-7bit", "max_frame_size 16, a 20-byte frame: "
         "FRAME_TOO_BIG at byte 1", fd_cfg(frame_max=1) +
         chunks(cframe(OP_BIN, b"z" * 20), []))
    seed(t, "frame-too-big-16bit", "max_frame_size 200, a 300-byte frame",
         fd_cfg(frame_max=2, client=True) +
         chunks(frame(OP_BIN, b"z" * 300), [3]))
    seed(t, "continuation-without-start", "continuation first: "
         "CONTINUATION_WITHOUT_START", fd_cfg() +
         chunks(cframe(OP_CONT, b"x"), []))
    seed(t, "data-during-fragmented", "TEXT while a message is open: "
         "DATA_DURING_FRAGMENTED", fd_cfg() +
         chunks(cframe(OP_TEXT, b"a", fin=False) + cframe(OP_TEXT, b"b"),
                []))
    utf8_split = "κόσμε".encode()
    seed(t, "utf8-split-across-frames", "a code point cut between two "
         "fragments (nim-websock #85): valid", fd_cfg(client=True) +
         chunks(frame(OP_TEXT, utf8_split[:3], fin=False) +
                frame(OP_CONT, utf8_split[3:]), [1, 1, 1, 1]))
    seed(t, "utf8-invalid-mid-frame", "invalid UTF-8 reported at the "
         "offending byte while the frame is still arriving (fail fast)",
         fd_cfg() + chunks(cframe(OP_TEXT, b"abc\xc0\xafdef"), [9]))
    seed(t, "utf8-truncated-at-end", "text ending inside a code point: "
         "INVALID_UTF8 at the end of the payload",
         fd_cfg(client=True) + chunks(frame(OP_TEXT, b"ab\xe2\x82"), []))
    seed(t, "utf8-surrogate-streaming", "streaming delivery, surrogate "
         "in the 2nd fragment", fd_cfg(streaming=True) +
         chunks(cframe(OP_TEXT, b"ok ", fin=False) +
                cframe(OP_CONT, b"\xed\xa0\x80"), [7]))
    seed(t, "message-too-big", "max_message_size 100, fragments of 60: "
         "MESSAGE_TOO_BIG at byte 1 of the 2nd", fd_cfg(msg_max=2) +
         chunks(cframe(OP_BIN, b"m" * 60, fin=False) +
                cframe(OP_CONT, b"n" * 60), [10]))
    seed(t, "message-limit-off", "max_message_size 0: a 70000-byte "
         "announcement is not refused by the session",
         fd_cfg(client=True, msg_max=1) +
         chunks(frame(OP_BIN, b"p" * 40, length=70000), []))
    seed(t, "close-1-byte", "Close with one byte: CLOSE_PAYLOAD_1_BYTE at "
         "byte 1", fd_cfg() + chunks(cframe(OP_CLOSE, b"\x03"), []))
    for code in (999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 0):
        seed(t, "close-code-%d" % code, "invalid close code %d: "
             "CLOSE_CODE_INVALID (fail-fast on the first code byte when "
             "no valid code starts with it)" % code,
             fd_cfg(client=True) +
             chunks(frame(OP_CLOSE, close_body(code)), [2, 1]))
    for code in (1000, 1001, 1003, 1007, 1014, 3000, 4999):
        seed(t, "close-code-%d-echo" % code, "valid close %d with a "
             "reason: echoed, state CLOSED, bytes after it not read" % code,
             fd_cfg() + chunks(cframe(OP_CLOSE, close_body(code, b"bye")) +
                               cframe(OP_TEXT, b"after"), [4]))
    seed(t, "close-reason-bad-utf8", "close reason not UTF-8: "
         "CLOSE_REASON_UTF8", fd_cfg() +
         chunks(cframe(OP_CLOSE, close_body(1000, b"a\xffb")), []))
    seed(t, "close-reason-truncated", "close reason ending inside a code "
         "point", fd_cfg(client=True) +
         chunks(frame(OP_CLOSE, close_body(1000, b"\xf0\x9f\x98")), [5]))
    seed(t, "close-empty", "empty Close: code 1005, echoed empty",
         fd_cfg(close_reply=0) + chunks(cframe(OP_CLOSE), []))
    for r in (1, 2, 3):
        seed(t, "close-reply-%d" % r, "on_close replies itself (mode %d: "
             "1000 bye / empty / invalid code then session echo)" % r,
             fd_cfg(client=True, close_reply=r) +
             chunks(frame(OP_CLOSE, close_body(1001)), []))
    seed(t, "close-mid-message", "Close inside a fragmented message",
         fd_cfg(streaming=True) +
         chunks(cframe(OP_TEXT, b"part", fin=False) +
                cframe(OP_CLOSE, close_body(1000)), [6]))
    seed(t, "ping-mid-message", "Ping between fragments (Section 5.4)",
         fd_cfg(client=True) +
         chunks(frame(OP_BIN, b"12", fin=False) + frame(OP_PING, b"p") +
                frame(OP_CONT, b"34"), [1, 2, 3, 4, 5]))
    seed(t, "empty-frames", "empty TEXT, empty fragments, empty ping",
         fd_cfg() + chunks(cframe(OP_TEXT) + cframe(OP_BIN, fin=False) +
                           cframe(OP_CONT, fin=False) + cframe(OP_PING) +
                           cframe(OP_CONT), [6, 6]))
    long_text = ("wsspec fuzz " * 30).encode()
    for frag_i, chunk_i in ((1, 2), (2, 3), (3, 1), (1, 0)):
        seed(t, "echo-frag%d-chunk%d" % (frag_i, chunk_i), "echo of a "
             "360-byte text cut into fragments by fragment_size index %d, "
             "sent in send_chunk_size index %d slices" % (frag_i, chunk_i),
             fd_cfg(frag=frag_i, chunk=chunk_i) +
             chunks(cframe(OP_TEXT, long_text) + cframe(OP_PING, b"pp"),
                    [100, 3]))
    seed(t, "echo-client-masked", "client echo: every frame masked with a "
         "fresh key", fd_cfg(client=True, frag=1) +
         chunks(frame(OP_BIN, b256[:50]) + frame(OP_TEXT, b"hi"), [30]))
    seed(t, "skip-unmask", "decoder skip_unmask: payload delivered "
         "masked", fd_cfg(skip_unmask=True) +
         chunks(cframe(OP_BIN, b256[:40]), [7, 9]))
    masked_long = cframe(OP_BIN, bytes((i * 7) & 255 for i in range(300)))
    seed(t, "mask-phase-odd-cuts", "300 masked bytes cut at odd offsets: "
         "key phase frame_offset mod 4 in every chunk", fd_cfg() +
         chunks(masked_long, [9, 1, 2, 3, 5, 7, 11, 13, 17, 31, 33, 65]))
    seed(t, "streaming-fragmented", "streaming delivery of a fragmented "
         "text, pieces as they arrive", fd_cfg(client=True,
                                              streaming=True) +
         chunks(frame(OP_TEXT, b"abc", fin=False) +
                frame(OP_CONT, b"def", fin=False) + frame(OP_CONT, b"g"),
                [3, 3, 3]))
    for ev in (1, 2, 3):
        seed(t, "callback-fails-%d" % ev, "callback event %d returns "
             "non-zero: WS_ECALLBACK, the read side stops" % ev,
             fd_cfg(fail_event=ev) +
             chunks(cframe(OP_TEXT, b"one") + cframe(OP_PING, b"") +
                    cframe(OP_BIN, b"two") + cframe(OP_CLOSE), [5]))
    seed(t, "callback-fails-violation", "on_violation returns non-zero",
         fd_cfg(fail_event=1) + chunks(cframe(9, b"", fin=False), []))
    seed(t, "callback-fails-streaming", "on_message_begin fails",
         fd_cfg(fail_event=1, streaming=True) +
         chunks(cframe(OP_TEXT, b"x"), []))
    for n in range(0, 6):
        seed(t, "enomem-%d" % n, "allocation %d fails: WS_ENOMEM, FAILED, "
             "CLOSE_NOW, nothing leaks" % n,
             fd_cfg(enomem=n, frag=1) +
             chunks(cframe(OP_TEXT, b"a" * 30, fin=False) +
                    cframe(OP_CONT, b"b" * 30) + cframe(OP_PING, b"q"),
                    [20, 20]))
    many = b"".join(cframe(OP_BIN, bytes([i]) * i) for i in range(20))
    seed(t, "many-small-frames", "20 small frames in one read: the fast "
         "path back to back", fd_cfg() + chunks(many, []))


# --------------------------------------------------- fuzz_frame_roundtrip

def rt_cfg(client=False, rsv=0, nonmin=False, frame_max=0, rng=False,
           cut=128):
    b0 = (1 if client else 0) | ((rsv >> 4) << 1) | (nonmin << 4) | \
        (frame_max << 5) | (rng << 7)
    return bytes([b0, cut])


def rt_frame(op, payload=b"", fin=True, rsv=0, masked=True, form=0,
             extras=0, key=KEY, big=False, close=None):
    """One frame description: form 0/7/16/64, extras bits of f3, close =
    (code, reason) for a Close body built by the target."""
    forms = {0: 0, 7: 1, 16: 2, 64: 3}
    n = len(payload)
    if big:
        cls, f2 = 0x1F, n
    elif n < 256:
        cls, f2 = 0, n
    else:
        assert n < 1024
        cls, f2 = 11 + n // 256, n % 256
    f0 = (0x80 if fin else 0) | rsv | op
    f1 = (0x80 if masked else 0) | (forms[form] << 5) | cls
    out = bytes([f0, f1, f2, extras])
    if masked:
        out += key
    if close is not None:
        code, reason = close
        out += code.to_bytes(2, "big") + bytes([len(reason)]) + reason
    elif not big:
        out += payload
    return out


def roundtrip_seeds():
    t = "fuzz_frame_roundtrip"
    seed(t, "empty", "the empty input: argument contracts of ws_frame.h, "
         "ws_mask.h, ws_close.h and the ws_core.h tables", b"")
    seed(t, "rfc-hello-masked", "RFC 5.7 masked text, minimal form",
         rt_cfg() + rt_frame(OP_TEXT, b"Hello"))
    seed(t, "rfc-hello-client", "unmasked text decoded by a client",
         rt_cfg(client=True) + rt_frame(OP_TEXT, b"Hello", masked=False))
    seed(t, "forms-7-16-64", "the same payload in each forced form with "
         "allow_nonminimal_length: all decode",
         rt_cfg(nonmin=True) + rt_frame(OP_BIN, b"abc", form=7) +
         rt_frame(OP_BIN, b"abc", form=16) +
         rt_frame(OP_BIN, b"abc", form=64))
    seed(t, "form-16-nonminimal", "forced 16-bit form for 3 bytes: "
         "LENGTH_NOT_MINIMAL at byte 1", rt_cfg() +
         rt_frame(OP_BIN, b"x") + rt_frame(OP_BIN, b"abc", form=16))
    seed(t, "form-7-too-small", "forced 7-bit form for 300 bytes falls "
         "back to 16", rt_cfg(client=True) +
         rt_frame(OP_BIN, bytes(300), masked=False, form=7))
    seed(t, "len-126-boundary", "126 and 125 bytes: the 7/16-bit "
         "boundary", rt_cfg() + rt_frame(OP_BIN, b"a" * 125) +
         rt_frame(OP_BIN, b"b" * 126))
    seed(t, "big-64bit", "65472+ bytes: the 16/64-bit boundary (pattern "
         "payload)", rt_cfg(client=True) +
         rt_frame(OP_BIN, bytes(100), masked=False, big=True))
    seed(t, "msb", "64-bit form with the top bit: LENGTH_MSB at byte 2",
         rt_cfg() + rt_frame(OP_BIN, b"hi", form=64, extras=0x20))
    seed(t, "encoder-errors", "invalid opcode, RSV and length_form: "
         "WS_EINVAL; short buffer: WS_ENOBUFS; failing random: WS_ERANDOM",
         rt_cfg(rng=True) + rt_frame(OP_TEXT, b"abc", extras=0x1F))
    seed(t, "rng-keys", "keys drawn from the random source, several "
         "frames", rt_cfg(rng=True) + rt_frame(OP_TEXT, b"a") +
         rt_frame(OP_BIN, b"bb") + rt_frame(OP_PING, b"ccc"))
    seed(t, "control-rules", "ping with FIN=0, then a 126-byte pong in "
         "the 16-bit form", rt_cfg() + rt_frame(OP_PING, b"p", fin=False))
    seed(t, "control-too-long", "pong of 126 bytes: CONTROL_TOO_LONG",
         rt_cfg() + rt_frame(OP_PONG, b"q" * 126))
    seed(t, "reserved-opcodes", "opcodes 3 and 0xF",
         rt_cfg() + rt_frame(3, b"") )
    seed(t, "reserved-opcode-f", "opcode 0xF", rt_cfg(client=True) +
         rt_frame(0xF, b"", masked=False))
    seed(t, "rsv-allowed", "RSV1..3 allowed by the decoder",
         rt_cfg(rsv=0x70) + rt_frame(OP_BIN, b"r", rsv=0x50))
    seed(t, "rsv-refused", "RSV2 not allowed", rt_cfg(rsv=0x40) +
         rt_frame(OP_BIN, b"r", rsv=0x20))
    seed(t, "wrong-mask-server", "unmasked frame to a server",
         rt_cfg() + rt_frame(OP_TEXT, b"u", masked=False))
    seed(t, "wrong-mask-client", "masked frame to a client",
         rt_cfg(client=True) + rt_frame(OP_TEXT, b"m"))
    seed(t, "frame-max", "max_frame_size 125: 126 bytes too big at byte 1",
         rt_cfg(frame_max=1) + rt_frame(OP_BIN, b"f" * 126))
    seed(t, "frame-max-7bit", "max_frame_size 125 with a 7-bit 100",
         rt_cfg(frame_max=1, cut=3) + rt_frame(OP_BIN, b"f" * 100))
    for code, reason in ((1000, b"normal"), (1005, b""), (1005, b"x"),
                         (999, b""), (4999, "ok é".encode()),
                         (1002, b"\xc3"), (3000, b"r" * 124)):
        seed(t, "close-build-%d-%d" % (code, len(reason)),
             "ws_close_payload_build(%d, %d-byte reason) against its "
             "contract, then parsed back and checked incrementally" %
             (code, len(reason)),
             rt_cfg() + rt_frame(OP_CLOSE, masked=True, extras=0x40,
                                 close=(code, reason)))
    for body in (b"\x03", b"\x03\xe7", b"\x03\xe8\xff", b"\x00\x00",
                 b"\x13\x88", b"\x0b\xb8\xe2\x82"):
        seed(t, "close-raw-%s" % body.hex(), "raw Close body %s through "
             "ws_close_parse and the incremental checker" % body.hex(),
             rt_cfg(client=True) + rt_frame(OP_CLOSE, body, masked=False))
    seed(t, "mask-paths", "masking paths: 200 bytes at key phase 3, "
         "portable/AVX2/copy/overlap against the byte loop",
         rt_cfg(cut=77) + rt_frame(OP_BIN, bytes(range(200)), extras=0x80,
                                   key=b"\x01\x02\x03\x04"))
    seed(t, "mask-paths-short", "masking paths for 7 bytes (short path)",
         rt_cfg() + rt_frame(OP_BIN, b"1234567", extras=0x80))
    seed(t, "mask-paths-words", "masking paths for 20 bytes (word path "
         "below the AVX2 width)", rt_cfg() +
         rt_frame(OP_BIN, bytes(range(20)), extras=0x80))
    seed(t, "cut-in-header", "the stream cut inside the 2nd header",
         rt_cfg(cut=40) + rt_frame(OP_TEXT, b"0123456789") +
         rt_frame(OP_BIN, bytes(500)))


# ------------------------------------------------------------- fuzz_utf8

def u8(cuts, data):
    assert len(cuts) <= 15
    return bytes([len(cuts)] + list(cuts)) + data


def utf8_seeds():
    t = "fuzz_utf8"
    text = "Hello-µ@ßöäüàá-UTF-8!! κόσμε 日本語 𝄞 ".encode()
    seed(t, "valid-mixed", "valid 1-4 byte code points", u8([], text))
    seed(t, "valid-mixed-cuts", "the same cut inside code points",
         u8([1, 2, 3, 5, 7, 11, 13], text))
    long = (text * 8)[:400]
    seed(t, "valid-long-avx2", "400 bytes: the AVX2 path with 64-byte "
         "blocks and a tail", u8([], long))
    seed(t, "valid-long-cuts", "400 bytes cut at 33, 64, 65: chunks that "
         "start inside a code point on the vector path",
         u8([33, 64, 65, 100], long))
    seed(t, "ascii-then-error", "ASCII blocks then an error at 200: the "
         "vector check flags the block, the DFA finds the byte",
         u8([], b"a" * 200 + b"\xff" + b"b" * 50))
    seed(t, "ascii-long-cuts", "long ASCII cut at 32..96",
         u8([32, 96, 64], b"x" * 300))
    cases = [
        ("overlong-2", b"\xc0\xaf"), ("c1", b"\xc1\xbf"),
        ("overlong-3", b"\xe0\x80\xaf"), ("overlong-4", b"\xf0\x80\x80\xaf"),
        ("surrogate", b"\xed\xa0\x80"), ("surrogate-low", b"\xed\xbf\xbf"),
        ("above-10ffff", b"\xf4\x90\x80\x80"), ("f5", b"\xf5\x80\x80\x80"),
        ("ff", b"\xff"), ("stray-cont", b"a\x80b"),
        ("truncated-2", b"ab\xc3"), ("truncated-3", b"ab\xe2\x82"),
        ("truncated-4", b"ab\xf0\x9f\x98"), ("max-10ffff", b"\xf4\x8f\xbf\xbf"),
        ("min-3byte", b"\xe0\xa0\x80"), ("last-bmp", b"\xef\xbf\xbf"),
        ("two-conts", b"\xc3\xa9\xa9"), ("lead-lead", b"\xe2\xe2\x82\xac"),
    ]
    for name, bad in cases:
        seed(t, name, "RFC 3629 edge: %s" % bad.hex(), u8([], bad))
        seed(t, name + "-vector", "%s after 40 ASCII bytes and before 40 "
             "more (vector path)" % bad.hex(),
             u8([], b"v" * 40 + bad + b"w" * 40))
        seed(t, name + "-cut", "%s cut between its bytes" % bad.hex(),
             u8([1, 1, 1], bad))
    seed(t, "block-boundary-4byte", "a 4-byte code point across the "
         "64-byte block boundary", u8([], b"z" * 62 + "𝄞".encode() +
                                      b"z" * 40))
    seed(t, "end-open-3", "400 bytes ending in a lead byte (end_state)",
         u8([], long[:399] + b"\xe2"))
    seed(t, "end-bad-last", "a bad last byte after 100 bytes",
         u8([], b"q" * 100 + b"\xc0"))
    seed(t, "empty-feeds", "empty chunks between bytes",
         u8([0, 1, 0, 0, 2], "é€".encode()))


# ------------------------------------------------------------- handshake

RFC_REQUEST = (b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n"
               b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               b"Origin: http://example.com\r\n"
               b"Sec-WebSocket-Protocol: chat, superchat\r\n"
               b"Sec-WebSocket-Version: 13\r\n\r\n")

CHROME_REQUEST = (
    b"GET /ws?room=1 HTTP/1.1\r\nHost: localhost:9001\r\n"
    b"Connection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    b"(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n"
    b"Upgrade: websocket\r\nOrigin: http://localhost:9001\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Accept-Language: en-US,en;q=0.9\r\n"
    b"Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
    b"Sec-WebSocket-Extensions: permessage-deflate; "
    b"client_max_window_bits\r\n\r\n")


def hq(req, scanner=3, headers=0, head=0, ctx=False, choose=True,
       cuts=(), whole=3):
    """fuzz_handshake_request input. headers: 64, 0, 3, 16; head: 8192,
    40, 200, 2000; scanner: bytewise, SSE2, AVX2, default."""
    cfg = scanner | (headers << 2) | (head << 4) | (ctx << 6) | (choose << 7)
    return bytes([cfg, len(cuts) | (whole << 4)] + list(cuts)) + req


def req_with(*lines, target=b"/chat", method=b"GET", version=b"HTTP/1.1"):
    head = method + b" " + target + b" " + version + b"\r\n"
    return head + b"".join(l + b"\r\n" for l in lines) + b"\r\n"


BASE = [b"Host: example.com", b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        b"Sec-WebSocket-Version: 13"]


def without(name):
    return [l for l in BASE if not l.lower().startswith(name)]


def handshake_request_seeds():
    t = "fuzz_handshake_request"
    seed(t, "empty", "the empty input: argument contracts of ws_http.h and "
         "the server half of ws_handshake.h", b"")
    seed(t, "rfc-1.3-request", "RFC 6455 Section 1.3 request: accepted, "
         "101 with subprotocol chat", hq(RFC_REQUEST))
    seed(t, "rfc-request-bytewise", "the RFC request fed in 15 chunks, "
         "bytewise scanner", hq(RFC_REQUEST, scanner=0,
                                cuts=(1, 2, 3, 4, 5, 8, 13, 21, 34, 55, 5,
                                      3, 2, 1, 1), whole=1))
    seed(t, "chrome-request", "a browser's request: long values (vector "
         "scanners), permessage-deflate offered and echoed",
         hq(CHROME_REQUEST, scanner=2, ctx=True))
    seed(t, "chrome-request-sse2-cuts", "the browser request, SSE2, cut",
         hq(CHROME_REQUEST, scanner=1, cuts=(100, 7, 90), whole=0))
    seed(t, "absolute-form", "absolute-form target ws://host/path?q",
         hq(req_with(*BASE, target=b"ws://example.com:80/a/b?c=d")))
    seed(t, "absolute-https", "absolute-form https, empty path",
         hq(req_with(*BASE, target=b"https://[::1]:8443")))
    seed(t, "pct-target", "percent-encoded target", hq(req_with(
        *BASE, target=b"/a%20b/%7e?x=%41")))
    refusals = [
        ("method-post", req_with(*BASE, method=b"POST"), "405 + Allow"),
        ("http-1.0", req_with(*BASE, version=b"HTTP/1.0"),
         "HTTP_VERSION 400"),
        ("target-bad", req_with(*BASE, target=b"chat"), "TARGET"),
        ("target-bad-pct", req_with(*BASE, target=b"/a%zz"), "TARGET"),
        ("target-ftp", req_with(*BASE, target=b"ftp://x/"), "TARGET"),
        ("no-host", req_with(*without(b"host")), "HOST_MISSING"),
        ("two-hosts", req_with(*BASE, b"Host: b"), "HOST_DUPLICATE"),
        ("empty-host", req_with(b"Host:", *without(b"host")),
         "HOST_MISSING (empty)"),
        ("no-upgrade", req_with(*without(b"upgrade")), "UPGRADE_MISSING"),
        ("upgrade-h2c", req_with(b"Upgrade: h2c", *without(b"upgrade")),
         "UPGRADE_NO_WEBSOCKET"),
        ("upgrade-list", req_with(b"Upgrade: h2c, WebSocket/13",
                                  *without(b"upgrade")),
         "Upgrade list with protocol/version: accepted"),
        ("upgrade-bad", req_with(b"Upgrade: web socket",
                                 *without(b"upgrade")), "UPGRADE_INVALID"),
        ("no-connection", req_with(*without(b"connection")),
         "CONNECTION_MISSING"),
        ("connection-keepalive", req_with(b"Connection: keep-alive",
                                          *without(b"connection")),
         "CONNECTION_NO_UPGRADE"),
        ("connection-list", req_with(b"Connection: keep-alive, Upgrade",
                                     *without(b"connection")),
         "Connection list: accepted"),
        ("connection-bad", req_with(b"Connection: up grade",
                                    *without(b"connection")),
         "CONNECTION_INVALID"),
        ("no-key", req_with(*without(b"sec-websocket-key")), "KEY_MISSING"),
        ("two-keys", req_with(*BASE, b"Sec-WebSocket-Key: "
                              b"AQIDBAUGBwgJCgsMDQ4PEA=="), "KEY_DUPLICATE"),
        ("key-short", req_with(b"Sec-WebSocket-Key: dGhlIHNhbXBsZQ==",
                               *without(b"sec-websocket-key")),
         "KEY_INVALID (10 bytes)"),
        ("key-unpadded", req_with(b"Sec-WebSocket-Key: "
                                  b"dGhlIHNhbXBsZSBub25jZQAA",
                                  *without(b"sec-websocket-key")),
         "KEY_INVALID: 24 chars that decode to 18 bytes (H2)"),
        ("key-bad-char", req_with(b"Sec-WebSocket-Key: "
                                  b"dGhlIHNhbXBsZSBub25j*Q==",
                                  *without(b"sec-websocket-key")),
         "KEY_INVALID: not base64"),
        ("key-eq-inside", req_with(b"Sec-WebSocket-Key: "
                                   b"dGhlIHNhbX=sZSBub25jZQ==",
                                   *without(b"sec-websocket-key")),
         "KEY_INVALID: '=' inside"),
        ("no-version", req_with(*without(b"sec-websocket-version")),
         "VERSION_MISSING 426"),
        ("version-8", req_with(b"Sec-WebSocket-Version: 8",
                               *without(b"sec-websocket-version")),
         "VERSION_UNSUPPORTED 426"),
        ("two-versions", req_with(*BASE, b"Sec-WebSocket-Version: 13"),
         "VERSION_DUPLICATE"),
        ("protocol-bad", req_with(*BASE, b"Sec-WebSocket-Protocol: a b"),
         "PROTOCOL_INVALID"),
        ("protocol-empty", req_with(*BASE, b"Sec-WebSocket-Protocol: ,"),
         "PROTOCOL_INVALID (no token)"),
        ("protocol-repeated", req_with(*BASE, b"Sec-WebSocket-Protocol: a",
                                       b"Sec-WebSocket-Protocol: b, a"),
         "PROTOCOL_REPEATED across lines"),
        ("protocol-too-many", req_with(*BASE, b"Sec-WebSocket-Protocol: " +
                                       b", ".join(b"p%d" % i
                                                  for i in range(17))),
         "PROTOCOL_TOO_MANY"),
        ("ext-params", req_with(*BASE, b"Sec-WebSocket-Extensions: "
                                b"permessage-deflate; client_max_window_bits"
                                b"; server_max_window_bits=10, x-foo;a=\"b\""
                                b";c=\"\\d\""),
         "extension params: token, quoted, escaped; echoed in the 101"),
        ("ext-bad", req_with(*BASE, b"Sec-WebSocket-Extensions: a;;b"),
         "EXTENSIONS_INVALID"),
        ("ext-bad-quote", req_with(*BASE, b"Sec-WebSocket-Extensions: "
                                   b"a; b=\"c d\""), "EXTENSIONS_INVALID"),
        ("ext-unterminated", req_with(*BASE, b"Sec-WebSocket-Extensions: "
                                      b"a; b=\"cd"), "EXTENSIONS_INVALID"),
        ("ext-too-many", req_with(*BASE, b"Sec-WebSocket-Extensions: " +
                                  b", ".join(b"e%d" % i
                                             for i in range(17))),
         "EXTENSIONS_TOO_MANY"),
        ("ext-params-too-many", req_with(*BASE, b"Sec-WebSocket-Extensions:"
                                         b" e" + b"; p" * 33),
         "EXTENSIONS_TOO_MANY (params)"),
        ("ext-empty", req_with(*BASE, b"Sec-WebSocket-Extensions: , ,"),
         "EXTENSIONS_INVALID (no extension)"),
    ]
    for name, req, why in refusals:
        seed(t, name, why, hq(req))
    syntax = [
        ("bare-lf", b"GET / HTTP/1.1\nHost: a\r\n\r\n", "BARE_LF"),
        ("bare-lf-value", b"GET / HTTP/1.1\r\nHost: a\n\r\n", "BARE_LF"),
        ("cr-no-lf", b"GET / HTTP/1.1\r\nHost: a\rx\r\n\r\n", "LF_EXPECTED"),
        ("obs-fold", b"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", "OBS_FOLD"),
        ("space-colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
         "SPACE_BEFORE_COLON"),
        ("ctl-value", b"GET / HTTP/1.1\r\nHost: a\x01b\r\n\r\n",
         "VALUE_CTL"),
        ("del-value", b"GET / HTTP/1.1\r\nX: " + b"y" * 40 + b"\x7f\r\n\r\n",
         "VALUE_CTL found by a vector scanner"),
        ("bad-name", b"GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", "HEADER_NAME"),
        ("bad-method", b"G(T / HTTP/1.1\r\n\r\n", "METHOD"),
        ("empty-method", b" / HTTP/1.1\r\n\r\n", "METHOD"),
        ("bad-target", b"GET /\x01 HTTP/1.1\r\n\r\n", "TARGET"),
        ("bad-version", b"GET / HTTP/2.0\r\n\r\n", "VERSION"),
        ("version-junk", b"GET / HTTP/1.1x\r\n\r\n", "VERSION"),
        ("leading-crlf", b"\r\nGET / HTTP/1.1\r\n\r\n", "METHOD"),
        ("end-lf", b"GET / HTTP/1.1\r\n\rX", "LF_EXPECTED at the end"),
    ]
    for name, req, why in syntax:
        seed(t, "syntax-" + name, "parser: " + why, hq(req))
        seed(t, "syntax-" + name + "-cut", "parser, cut, bytewise: " + why,
             hq(req, scanner=0, cuts=(3, 5, 7, 11, 13), whole=2))
    seed(t, "too-many-headers", "a 3-entry header array: "
         "TOO_MANY_HEADERS 431", hq(RFC_REQUEST, headers=2))
    seed(t, "zero-headers", "a 0-entry header array", hq(
        b"GET / HTTP/1.1\r\nA: b\r\n\r\n", headers=1))
    seed(t, "head-too-large", "max_head 40: HEAD_TOO_LARGE 431",
         hq(RFC_REQUEST, head=1))
    seed(t, "head-limit-200-cut", "max_head 200, cut across the limit",
         hq(RFC_REQUEST, head=2, cuts=(150, 60)))
    seed(t, "incomplete", "an unfinished head: WS_EAGAIN",
         hq(RFC_REQUEST[:70], cuts=(30,)))
    long_vals = req_with(*BASE, b"X-Long: " + b"v" * 100 + b" \t ",
                         b"x-under_score.name~: 1", b"X-Empty:",
                         b"X-Tab:\tt\t", b"X-Obs: \x80\xff")
    seed(t, "long-values", "long values, OWS to trim, odd token names, "
         "empty value, obs-text: line_fast and its fallbacks",
         hq(long_vals, scanner=2, whole=0))
    seed(t, "long-values-cut", "the same cut inside names and values",
         hq(long_vals, scanner=1, cuts=(20, 1, 40, 9, 33, 64, 2, 100),
            whole=2))
    seed(t, "trailing-bytes", "frames after the head are not part of it",
         hq(RFC_REQUEST + b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"))
    seed(t, "no-choose", "accepted without choosing a subprotocol",
         hq(RFC_REQUEST, choose=False, ctx=True))


def accept_for(nonce):
    key = base64.b64encode(nonce)
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


NONCES = [b"the sample nonce", b"wsspec fuzz key1", b"wsspec fuzz key2",
          b"wsspec fuzz key3"]
assert accept_for(NONCES[0]) == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def resp(accept, *extra, status=b"101 Switching Protocols"):
    return (b"HTTP/1.1 " + status + b"\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
            b"\r\n" + b"".join(l + b"\r\n" for l in extra) + b"\r\n")


def hr(head, option_set=0, scanner=3, head_limit=0, ctx=False, cuts=(),
       whole=3):
    cfg = option_set | (scanner << 2) | (head_limit << 4) | (ctx << 6)
    return bytes([cfg, len(cuts) | (whole << 4)] + list(cuts)) + head


def builder(port=0, secure=0, host=b"example.com", path=b"", origin=b"",
            protos=(), exts=(), headers=()):
    out = port.to_bytes(2, "big") + bytes([secure])
    out += host + b"\0" + path + b"\0" + origin + b"\0"
    for lst in (protos, exts, headers):
        out += b"".join(x + b"\0" for x in lst) + b"\0"
    return bytes([0x80]) + out


def handshake_response_seeds():
    t = "fuzz_handshake_response"
    seed(t, "empty", "the empty input: every invalid ws_client_options is "
         "WS_EINVAL, client_check argument contracts", b"")
    a = [accept_for(n) for n in NONCES]
    seed(t, "rfc-101", "RFC 6455 Section 1.3 response for the sample "
         "nonce: accepted", hr(resp(a[0])))
    seed(t, "rfc-101-cut", "the same, cut and bytewise",
         hr(resp(a[0]), scanner=0, cuts=(1, 9, 20, 3, 40), whole=2))
    seed(t, "set1-protocol-ext", "option set 1: subprotocol chat and "
         "permessage-deflate accepted", hr(resp(
             a[1], b"Sec-WebSocket-Protocol: superchat",
             b"Sec-WebSocket-Extensions: permessage-deflate; "
             b"client_max_window_bits=15"), option_set=1, ctx=True))
    seed(t, "set2-ipv6", "option set 2 (IPv6 host, wss, extra headers)",
         hr(resp(a[2], b"Server: x"), option_set=2, scanner=1))
    seed(t, "set3-ext-list", "option set 3: two offered extensions",
         hr(resp(a[3], b"Sec-WebSocket-Extensions: x-b; p=q, x-a",
                 b"Sec-WebSocket-Protocol: v1.json"), option_set=3))
    seed(t, "frames-after", "frames after the 101 stay unread",
         hr(resp(a[0]) + b"\x81\x05Hello"))
    fails = [
        ("status-200", resp(a[0], status=b"200 OK"), 0, "STATUS_NOT_101"),
        ("status-400-body", b"HTTP/1.1 400 Bad Request\r\nContent-Length: "
         b"4\r\n\r\nbad\n", 0, "STATUS_NOT_101 with a body"),
        ("wrong-accept", resp(a[1]), 0, "ACCEPT_MISMATCH"),
        ("accept-short", resp(b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo"), 0,
         "ACCEPT_MISMATCH (27 chars)"),
        ("no-accept", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: "
         b"websocket\r\nConnection: Upgrade\r\n\r\n", 0, "ACCEPT_MISSING"),
        ("two-accepts", resp(a[0], b"Sec-WebSocket-Accept: " + a[0]), 0,
         "ACCEPT_DUPLICATE"),
        ("no-upgrade", b"HTTP/1.1 101 OK\r\nConnection: Upgrade\r\n"
         b"Sec-WebSocket-Accept: " + a[0] + b"\r\n\r\n", 0,
         "UPGRADE_MISSING"),
        ("upgrade-list", b"HTTP/1.1 101 OK\r\nUpgrade: websocket, h2c\r\n"
         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + a[0] +
         b"\r\n\r\n", 0, "UPGRADE_NO_WEBSOCKET: not exactly websocket"),
        ("no-connection", b"HTTP/1.1 101 OK\r\nUpgrade: WebSocket\r\n"
         b"Sec-WebSocket-Accept: " + a[0] + b"\r\n\r\n", 0,
         "CONNECTION_MISSING"),
        ("connection-close", b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
         b"Connection: close\r\nSec-WebSocket-Accept: " + a[0] +
         b"\r\n\r\n", 0, "CONNECTION_NO_UPGRADE"),
        ("connection-bad", b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
         b"Connection: a b\r\nSec-WebSocket-Accept: " + a[0] +
         b"\r\n\r\n", 0, "CONNECTION_INVALID"),
        ("protocol-not-offered", resp(a[0], b"Sec-WebSocket-Protocol: "
                                      b"chat"), 0, "PROTOCOL_NOT_OFFERED"),
        ("protocol-two", resp(a[1], b"Sec-WebSocket-Protocol: chat",
                              b"Sec-WebSocket-Protocol: chat"), 1,
         "PROTOCOL_DUPLICATE"),
        ("protocol-list", resp(a[1], b"Sec-WebSocket-Protocol: chat, "
                               b"superchat"), 1, "PROTOCOL_INVALID"),
        ("ext-not-offered", resp(a[1], b"Sec-WebSocket-Extensions: x-y"),
         1, "EXTENSION_NOT_OFFERED"),
        ("ext-two", resp(a[1], b"Sec-WebSocket-Extensions: x-test",
                         b"Sec-WebSocket-Extensions: x-test"), 1,
         "EXTENSIONS_DUPLICATE"),
        ("ext-bad", resp(a[1], b"Sec-WebSocket-Extensions: ;"), 1,
         "EXTENSIONS_INVALID"),
        ("bad-status", b"HTTP/1.1 1O1 x\r\n\r\n", 0, "parser STATUS"),
        ("bad-reason", b"HTTP/1.1 101 a\x01b\r\n\r\n", 0, "parser REASON"),
        ("bad-version", b"HTTP/1.2x 101 x\r\n\r\n", 0, "parser VERSION"),
        ("reason-empty", b"HTTP/1.1 101 \r\nUpgrade: websocket\r\n"
         b"Connection: upgrade\r\nSec-WebSocket-Accept: " + a[0] +
         b"\r\n\r\n", 0, "empty reason phrase: accepted"),
    ]
    for name, head, os_, why in fails:
        seed(t, name, why, hr(head, option_set=os_))
    seed(t, "head-too-large", "max_head 40", hr(resp(a[0]), head_limit=1))
    seed(t, "builder-basic", "builder mode: a plain request accepted by "
         "our server check", builder())
    seed(t, "builder-full", "builder mode: port, path, origin, "
         "subprotocols, extensions, extra headers",
         builder(port=8080, path=b"/p?q=1", origin=b"http://o",
                 protos=(b"a", b"b.c"),
                 exts=(b"permessage-deflate; server_no_context_takeover",
                       b"x; y=\"z\""), headers=(b"X-A: b", b"X-B:")))
    seed(t, "builder-ipv6-secure", "builder mode: IPv6, wss, port 443",
         builder(port=443, secure=1, host=b"::1"))
    seed(t, "builder-invalid", "builder mode: invalid options (EINVAL)",
         builder(host=b"a b", path=b"x"))
    seed(t, "builder-dup-proto", "builder mode: a repeated subprotocol",
         builder(protos=(b"a", b"a")))


# ---------------------------------------------------------- sessions

def ss_cfg(frag=0, chunk=0, streaming=False, auto_pong=True, msg_max=0,
           rsv=0, close_reply=0, echo=True, frame_max=0, option_set=0,
           enomem=None, fail_event=0, rnd_fail=0, contracts=False):
    a = frag | (chunk << 2) | (streaming << 4) | (auto_pong << 5) | \
        (msg_max << 6)
    b = (rsv >> 4) | (close_reply << 3) | (echo << 5) | (frame_max << 6)
    c = option_set | (rnd_fail << 2) | \
        (0xC0 if enomem is not None else 0x80 if contracts else 0)
    d = fail_event | ((enomem or 0) << 4)
    return bytes([a, b, c, d])


def rec(data, cuts=()):
    """Peer bytes as records of at most 239 bytes."""
    out, pos = bytearray(), 0
    for c in list(cuts):
        if pos >= len(data):
            break
        c = min(c, 239, len(data) - pos)
        out += bytes([c]) + data[pos:pos + c]
        pos += c
    while pos < len(data):
        c = min(239, len(data) - pos)
        out += bytes([c]) + data[pos:pos + c]
        pos += c
    return bytes(out)


def act_text(b):
    return bytes([0xF1, len(b)]) + b


def act_bin(b):
    return bytes([0xF2, len(b)]) + b


def act_ping(b):
    return bytes([0xF3, len(b)]) + b


def act_pong(b):
    return bytes([0xF4, len(b)]) + b


def act_big(n):
    return bytes([0xF8, n])


def act_close(code, reason=b""):
    return bytes([0xF5]) + code.to_bytes(2, "big") + bytes([len(reason)]) + \
        reason


ACT_CLOSE_EMPTY, ACT_SEND1, ACT_DRAIN = b"\xf6", b"\xf7", b"\xf0"

SERVER_REQ = req_with(*BASE)


def session_seeds(role):
    t = "fuzz_session_" + role
    server = role == "server"
    f = cframe if server else frame
    hs = SERVER_REQ if server else resp(accept_for(NONCES[0]))

    def s(name, why, frames=b"", cfg=None, acts=b"", cuts=(), pre=b""):
        cfg = cfg or ss_cfg()
        seed(t, name, why, cfg + rec(hs) + pre + rec(frames, cuts) + acts)

    s("echo", "handshake, then a text and a binary echoed",
      f(OP_TEXT, b"Hello") + f(OP_BIN, b"\x00\x01\x02"))
    s("contracts", "the argument contracts of ws_session.h on a fresh "
      "session, then an echo", f(OP_TEXT, b"Hi"),
      cfg=ss_cfg(contracts=True))
    s("echo-cut", "the same with the reads cut small",
      f(OP_TEXT, b"Hello") + f(OP_BIN, b"\x00\x01\x02"), cuts=(1, 2, 3, 4))
    seed(t, "head-plus-frame", "the head and a frame in one read",
         ss_cfg() + rec(hs + f(OP_TEXT, b"same read")))
    s("ping-pong", "a ping answered, a pong ignored",
      f(OP_PING, b"ping!") + f(OP_PONG, b"pong"))
    s("peer-close", "the peer closes; we echo; CLOSED",
      f(OP_CLOSE, close_body(1000, b"bye")))
    s("peer-close-empty", "the peer's empty Close",
      f(OP_CLOSE))
    s("peer-close-reply", "on_close replies 1000 bye",
      f(OP_CLOSE, close_body(1001)), cfg=ss_cfg(close_reply=1))
    s("we-close-first", "we queue a Close, the peer's reply arrives after "
      "more data (delivered in CLOSE_SENT)", f(OP_TEXT, b"late"),
      acts=act_close(1000, b"done"), pre=act_close(3000, b"ours"))
    s("app-actions", "application sends: text, binary, ping, pong, "
      "partial sends, drain",
      f(OP_TEXT, b"x"), acts=act_text(b"hello") + act_bin(b"\xff\x00") +
      act_ping(b"p") + act_pong(b"q") + ACT_SEND1 + ACT_SEND1 + ACT_DRAIN)
    s("app-invalid", "application errors: invalid UTF-8 text (EINVAL), "
      "126-byte ping (ETOOBIG), bad close codes",
      acts=act_text(b"\xc0") + act_ping(b"z" * 126) + act_close(1005, b"r") +
      act_close(999) + act_close(1000, b"\xff") + act_close(1000, b"x" * 124))
    s("app-close-empty", "an empty Close from the application",
      acts=ACT_CLOSE_EMPTY + act_text(b"after close: ESTATE"))
    s("fragmented-echo", "fragment_size 16 and send_chunk_size 20: echo "
      "in fragments, control frames between data frames",
      f(OP_TEXT, b"A" * 90) + f(OP_PING, b"mid"),
      cfg=ss_cfg(frag=1, chunk=2), acts=act_ping(b"x") + ACT_SEND1 +
      act_pong(b"y") + ACT_DRAIN)
    s("streaming", "streaming delivery with fragments",
      f(OP_TEXT, b"abc", fin=False) + f(OP_PING) + f(OP_CONT, b"def"),
      cfg=ss_cfg(streaming=True))
    s("violation", "a reserved opcode: FAILED, our Close 1002",
      f(OP_TEXT, b"ok") + f(3, b"bad"))
    s("violation-utf8", "invalid UTF-8: Close 1007",
      f(OP_TEXT, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"))
    s("violation-after-our-close", "a violation in CLOSE_SENT: no second "
      "Close", f(OP_CONT, b"x"), pre=act_close(1000))
    s("too-big", "max_message_size 64: 1009",
      f(OP_BIN, b"b" * 100), cfg=ss_cfg(msg_max=2))
    s("frame-too-big", "max_frame_size 16: 1009",
      f(OP_BIN, b"b" * 20), cfg=ss_cfg(frame_max=1))
    s("rsv-allowed", "RSV1 allowed", f(OP_TEXT, b"r", rsv=0x40),
      cfg=ss_cfg(rsv=0x40))
    s("mid-frame-end", "input ends inside a frame: the close handshake "
      "cannot complete", f(OP_BIN, b"0123456789")[:8])
    for ev in (1, 2, 3):
        s("callback-fail-%d" % ev, "callback event %d fails" % ev,
          f(OP_TEXT, b"a") + f(OP_PING) + f(OP_CLOSE),
          cfg=ss_cfg(fail_event=ev))
    for n in range(0, 8):
        s("enomem-%d" % n, "allocation %d fails" % n,
          f(OP_TEXT, b"t" * 20, fin=False) + f(OP_CONT, b"u" * 20),
          cfg=ss_cfg(enomem=n, frag=1), cuts=(10, 10, 10),
          acts=act_text(b"q" * 40) + act_ping(b"p") + ACT_DRAIN)
    s("big-output", "a 1.6 MB message: 64-bit lengths on our output, "
      "send_chunk_size slices, a Ping between slices, buffers over the "
      "trim size freed (ours, and the peer's assembly buffer)",
      cfg=ss_cfg(), acts=act_big(200) + ACT_SEND1 +
      act_ping(b"between") + ACT_SEND1 + ACT_DRAIN + act_text(b"after"))
    s("queue-while-half-sent", "send_chunk_size 20: a message queued "
      "while one is half sent and the buffer is full (compaction)",
      cfg=ss_cfg(chunk=2), acts=act_text(b"t" * 200) + ACT_SEND1 +
      act_text(b"u" * 100) + ACT_DRAIN)
    if not server:
        for n in range(1, 6):
            s("random-fails-%d" % n, "the mask source fails at call %d: "
              "WS_ERANDOM from queue calls, automatic Pong and Close "
              "replies" % n,
              f(OP_PING, b"a") + f(OP_TEXT, b"echo me") +
              f(OP_CLOSE, close_body(1000)),
              cfg=ss_cfg(rnd_fail=n, frag=1),
              pre=act_text(b"x" * 40) + act_ping(b"p") + act_close(1001),
              acts=ACT_DRAIN)
        s("random-fails-violation", "the mask source fails for the Close "
          "of a violation: no Close is sent", f(3),
          cfg=ss_cfg(rnd_fail=1))
        for v in (1, 2, 3):
            seed(t, "option-set-%d" % v, "client option set %d with its "
                 "accept" % v, ss_cfg(option_set=v) +
                 rec(resp(accept_for(NONCES[v]))) +
                 rec(frame(OP_TEXT, b"hi")))
        seed(t, "refused", "a 403: the handshake fails, no session",
             ss_cfg() + rec(b"HTTP/1.1 403 Forbidden\r\n\r\n"))
    else:
        seed(t, "refused", "a request without a key: 400, no session",
             ss_cfg() + rec(req_with(*without(b"sec-websocket-key"))))
        seed(t, "head-cut", "the request in many reads",
             ss_cfg() + rec(hs, cuts=(1, 5, 17, 3, 40)) +
             rec(f(OP_TEXT, b"x")))


# ---------------------------------------------------------------- output

def write(check):
    listing, changed = [], []
    notes = ["# Hand-written fuzz seeds", "",
             "Generated by `fuzz/make_seeds.py`; do not edit. Each seed is "
             "`corpus/<target>/<sha256>`; the table names the code path it "
             "targets. Inputs grown by fuzzing (also SHA-256 names) are not "
             "listed.", ""]
    for target in sorted(SEEDS):
        d = os.path.join(ROOT, "corpus", target)
        os.makedirs(d, exist_ok=True)
        notes += ["## " + target, "", "| seed | name | targets |",
                  "|---|---|---|"]
        for name, path, data in SEEDS[target]:
            h = hashlib.sha256(data).hexdigest()
            listing.append(target + "/" + h)
            notes.append("| `%s` | %s | %s |" % (h[:12], name,
                                                  path.replace("|", "\\|")))
            p = os.path.join(d, h)
            if not os.path.exists(p):
                changed.append(p)
                if not check:
                    with open(p, "wb") as fp:
                        fp.write(data)
        notes.append("")
    for rel, text in (("fuzz/seeds.md", "\n".join(notes)),
                      ("fuzz/seeds.list", "\n".join(sorted(set(listing))) +
                       "\n")):
        p = os.path.join(ROOT, rel)
        old = open(p).read() if os.path.exists(p) else None
        if old != text:
            changed.append(p)
            if not check:
                with open(p, "w") as fp:
                    fp.write(text)
    return changed


def main():
    frame_decode_seeds()
    roundtrip_seeds()
    utf8_seeds()
    handshake_request_seeds()
    handshake_response_seeds()
    session_seeds("server")
    session_seeds("client")
    check = "--check" in sys.argv[1:]
    changed = write(check)
    n = sum(len(v) for v in SEEDS.values())
    if check and changed:
        print("make_seeds: out of date:", *changed, sep="\n  ")
        return 1
    print("make_seeds: %d seeds in %d targets%s" %
          (n, len(SEEDS), ", %d files written" % len(changed)
           if changed else ", up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
