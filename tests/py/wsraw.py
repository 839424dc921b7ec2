"""wsraw: a tiny RFC 6455 client over a plain socket, standard library only.

It exists to break the rules on purpose: every field of a frame can be set
by hand (FIN, RSV bits, opcode, the mask bit, the length encoding and even a
claimed length that differs from the bytes sent), and every byte the server
answers is returned as it came, so a test can assert the exact status line,
close code and reason.

    ws = RawWS.connect("127.0.0.1", port)
    ws.send(frame(OP_TEXT, b"hello"))
    assert ws.recv_frame() == Frame(True, 0, OP_TEXT, False, b"hello")
    ws.send(frame(OP_TEXT, b"x", rsv=4))
    assert ws.expect_close() == (1002, ...)
    ws.wait_eof()

Timeouts are in seconds and always finite: a server that says nothing makes
the call raise socket.timeout (TimeoutError), never hang.
"""

import base64
import hashlib
import os
import socket
import struct
import time
from typing import NamedTuple, Optional

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

RSV1, RSV2, RSV3 = 4, 2, 1  # as the 3-bit field (b0 >> 4) & 7


def accept_for(key: str) -> str:
    """Sec-WebSocket-Accept for |key| (RFC 6455 Section 4.2.2 item 5.4)."""
    digest = hashlib.sha1(key.encode("ascii") + GUID).digest()
    return base64.b64encode(digest).decode("ascii")


def new_key() -> str:
    return base64.b64encode(os.urandom(16)).decode("ascii")


def mask_bytes(payload: bytes, key: bytes) -> bytes:
    """XORs |payload| with the 4-byte |key| (RFC 6455 Section 5.3)."""
    n = len(payload)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    x = int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")
    return x.to_bytes(n, "big")


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True,
          rsv: int = 0, mask: bool = True, key: Optional[bytes] = None,
          length: Optional[int] = None, form: Optional[int] = None) -> bytes:
    """Encodes one frame.

    |rsv| is the 3-bit RSV field (RSV1 = 4). |mask| sets the MASK bit and
    masks the payload with |key| (random when None). |length| is the
    payload length written in the header (default len(payload)); |form|
    forces the length encoding: 7, 16 or 64 bits (default: the shortest).
    """
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0F)
    m = 0x80 if mask else 0
    if form is None:
        form = 7 if n < 126 else 16 if n < 65536 else 64
    if form == 7:
        head = struct.pack("!BB", b0, m | n)
    elif form == 16:
        head = struct.pack("!BBH", b0, m | 126, n)
    elif form == 64:
        head = struct.pack("!BBQ", b0, m | 127, n)
    else:
        raise ValueError("form must be 7, 16 or 64")
    if not mask:
        return head + payload
    if key is None:
        key = os.urandom(4)
    return head + key + mask_bytes(payload, key)


def close_payload(code: Optional[int], reason: bytes = b"") -> bytes:
    if code is None:
        return b""
    return struct.pack("!H", code) + reason


class Frame(NamedTuple):
    fin: bool
    rsv: int
    opcode: int
    masked: bool
    payload: bytes


class Close(NamedTuple):
    code: Optional[int]  # None for an empty Close payload
    reason: bytes
    after: float         # seconds from the call to the Close's arrival


class HttpResponse(NamedTuple):
    status: int
    status_line: str
    headers: dict        # lower-case name -> list of values
    head: bytes
    rest: bytes          # bytes after the head (body, or first frames)

    def header(self, name: str) -> Optional[str]:
        v = self.headers.get(name.lower())
        return v[0] if v else None


class HandshakeError(Exception):
    def __init__(self, response: HttpResponse):
        super().__init__("handshake refused: " + response.status_line)
        self.response = response


def parse_head(head: bytes, rest: bytes) -> HttpResponse:
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0]
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError("not an HTTP status line: %r" % status_line)
    headers: dict = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return HttpResponse(int(parts[1]), status_line, headers, head, rest)


def read_head(sock: socket.socket, timeout: float = 5.0,
              limit: int = 65536) -> HttpResponse:
    """Reads an HTTP response head (up to the empty line)."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise EOFError("connection closed inside the HTTP head: %r" % buf)
        buf += chunk
        if len(buf) > limit:
            raise ValueError("HTTP head over %d bytes" % limit)
    head, _, rest = buf.partition(b"\r\n\r\n")
    return parse_head(head + b"\r\n\r\n", rest)


def upgrade_request(host: str = "127.0.0.1", port: int = 0, *,
                    path: str = "/", key: Optional[str] = None,
                    method: str = "GET", version_line: str = "HTTP/1.1",
                    ws_version: Optional[str] = "13",
                    protocols=None, origin: Optional[str] = None,
                    extra=(), omit=()) -> bytes:
    """Builds an Upgrade request. Headers named (lower-case) in |omit| are
    left out; |extra| lines ("Name: value") are appended."""
    key = new_key() if key is None else key
    hdrs = [
        ("host", "Host: %s:%d" % (host, port)),
        ("upgrade", "Upgrade: websocket"),
        ("connection", "Connection: Upgrade"),
        ("sec-websocket-key", "Sec-WebSocket-Key: " + key),
    ]
    if ws_version is not None:
        hdrs.append(("sec-websocket-version",
                     "Sec-WebSocket-Version: " + ws_version))
    if protocols:
        hdrs.append(("sec-websocket-protocol",
                     "Sec-WebSocket-Protocol: " + ", ".join(protocols)))
    if origin is not None:
        hdrs.append(("origin", "Origin: " + origin))
    lines = ["%s %s %s" % (method, path, version_line)]
    lines += [line for name, line in hdrs if name not in omit]
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def http_exchange(host: str, port: int, request: bytes,
                  timeout: float = 5.0) -> HttpResponse:
    """Sends |request| on a fresh connection and returns the response head,
    with |rest| holding everything the server sent until it closed (or
    Content-Length bytes of body, whichever comes first)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(request)
        r = read_head(s, timeout)
        body = r.rest
        want = int(r.header("content-length") or -1)
        deadline = time.monotonic() + timeout
        while want < 0 or len(body) < want:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except (TimeoutError, socket.timeout):
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            body += chunk
        return r._replace(rest=body)


class RawWS:
    """One client connection after a successful opening handshake."""

    def __init__(self, sock: socket.socket, leftover: bytes = b"",
                 response: Optional[HttpResponse] = None):
        self.sock = sock
        self.buf = leftover
        self.response = response

    @classmethod
    def connect(cls, host: str, port: int, *, timeout: float = 5.0,
                **request_args) -> "RawWS":
        """Connects and performs the opening handshake; raises
        HandshakeError unless the answer is 101 with the right accept."""
        key = request_args.pop("key", None) or new_key()
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(upgrade_request(host, port, key=key, **request_args))
            r = read_head(sock, timeout)
            if r.status != 101:
                raise HandshakeError(r)
            if r.header("sec-websocket-accept") != accept_for(key):
                raise HandshakeError(r)
        except BaseException:
            sock.close()
            raise
        return cls(sock, r.rest, r)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, opcode: int, payload: bytes = b"", **kw) -> None:
        self.sock.sendall(frame(opcode, payload, **kw))

    def _fill(self, n: int, deadline: float) -> None:
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no data from the server in time "
                                   "(%d of %d bytes)" % (len(self.buf), n))
            self.sock.settimeout(left)
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise EOFError("server closed TCP (%d of %d bytes buffered)"
                               % (len(self.buf), n))
            self.buf += chunk

    def _take(self, n: int, deadline: float) -> bytes:
        self._fill(n, deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self, timeout: float = 5.0) -> Frame:
        """Reads one frame exactly as sent (unmasking a masked one)."""
        deadline = time.monotonic() + timeout
        b0, b1 = self._take(2, deadline)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._take(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8, deadline))[0]
        key = self._take(4, deadline) if b1 & 0x80 else None
        payload = self._take(n, deadline)
        if key:
            payload = mask_bytes(payload, key)
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F,
                     bool(b1 & 0x80), payload)

    def recv_message(self, timeout: float = 5.0):
        """Reads a data message, answering Pings; returns (opcode, data).
        A Close raises EOFError carrying the close payload."""
        deadline = time.monotonic() + timeout
        op, parts = None, []
        while True:
            f = self.recv_frame(max(0.0, deadline - time.monotonic()))
            if f.opcode == OP_PING:
                self.send_frame(OP_PONG, f.payload)
                continue
            if f.opcode == OP_PONG:
                continue
            if f.opcode == OP_CLOSE:
                raise EOFError("Close received: %r" % f.payload)
            if op is None:
                op = f.opcode
            parts.append(f.payload)
            if f.fin:
                return op, b"".join(parts)

    def expect_close(self, timeout: float = 5.0) -> Close:
        """Reads frames until a Close arrives (data frames and Pongs before
        it are dropped) and returns its code and reason. Raises EOFError if
        TCP closes first: a bare TCP close is never a Close."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        while True:
            f = self.recv_frame(max(0.0, deadline - time.monotonic()))
            if f.opcode != OP_CLOSE:
                continue
            if f.masked or not f.fin or f.rsv:
                raise AssertionError("malformed server Close: %r" % (f,))
            code = struct.unpack("!H", f.payload[:2])[0] if f.payload else None
            return Close(code, f.payload[2:], time.monotonic() - t0)

    def wait_eof(self, timeout: float = 2.0) -> float:
        """Waits for the server to close TCP and returns the seconds it
        took; bytes arriving first are an error. Raises TimeoutError when
        the connection stays open."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        if self.buf:
            raise AssertionError("unexpected bytes before EOF: %r"
                                 % self.buf[:64])
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("server kept TCP open for %.1f s" % timeout)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return time.monotonic() - t0
            if not chunk:
                return time.monotonic() - t0
            raise AssertionError("unexpected bytes before EOF: %r"
                                 % chunk[:64])
