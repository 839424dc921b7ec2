"""badservers: WebSocket servers that break one rule each, for grading tests.

`wsspec run` must turn a misbehaving server into exact Autobahn verdicts
and never hang. Every server here is the same small, correct RFC 6455 echo
server (threads and raw sockets, standard library only: a real opening
handshake with the Sec-WebSocket-Accept of RFC 6455 Section 4.2.2, frame
parsing, masking, UTF-8 and close-code checks) with exactly one rule
broken, chosen by |kind|:

  good              nothing broken: the control every other kind differs from
  no_utf8           echoes text messages without validating UTF-8
                    (RFC 6455 Section 8.1)
  lax_frames        silently drops frames with RSV bits or a reserved opcode
                    instead of failing the connection (Section 5.2)
  wrong_close_code  answers a Close with code 3001 instead of echoing the
                    code (Section 5.5.1)
  no_tcp_close      never closes TCP after the closing handshake; waits for
                    the client to do it (Section 7.1.1)
  no_pong           never answers a Ping (Section 5.5.2)
  close_at_once     closes TCP right after the 101 response
  no_handshake      reads the request and never answers it
  stall_mid_frame   on the first frame, sends the head of a 125-octet frame
                    and 10 of its octets, then nothing more
  flood             sends 64 KiB binary messages without pause from the start
  huge_frame        on the first frame, announces a 2^63-1 octet binary
                    frame and streams its payload forever
  http404           answers the upgrade request with HTTP 404 Not Found

refused_url() gives a ws:// URL on which nothing listens.

    srv = BadServer("no_pong")
    try:
        run(["wsspec", "run", srv.url, ...])
    finally:
        srv.close()   # stops every connection thread, bounded in time

Every socket operation has a finite timeout and close() shuts every
connection down, so no server thread outlives the test.
"""

import base64
import codecs
import hashlib
import socket
import struct
import threading

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
DATA_OPS = (OP_CONT, OP_TEXT, OP_BINARY)
CONTROL_OPS = (OP_CLOSE, OP_PING, OP_PONG)

KINDS = ("good", "no_utf8", "lax_frames", "wrong_close_code",
         "no_tcp_close", "no_pong", "close_at_once", "no_handshake",
         "stall_mid_frame", "flood", "huge_frame", "http404")

WRONG_CODE = 3001       # wrong_close_code's answer to every Close
IO_TIMEOUT = 20.0       # longest any socket call may block
CLOSE_WAIT = 2.0        # wait for the client's Close after ours


def accept_for(key: bytes) -> str:
    """Sec-WebSocket-Accept for |key| (RFC 6455 Section 4.2.2 item 5.4)."""
    return base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()


def valid_close_code(code: int) -> bool:
    """RFC 6455 Section 7.4: codes a peer may send (1012-1014 registered
    later by IANA and accepted, as by wsspec)."""
    if 1000 <= code <= 1003 or 1007 <= code <= 1014:
        return True
    return 3000 <= code <= 4999


def refused_url() -> str:
    """A ws:// URL on 127.0.0.1 whose port has no listener (bound once by
    us and released, so nothing else took it a moment ago)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "ws://127.0.0.1:%d/" % port


class Closed(Exception):
    """The connection ended (EOF, reset, timeout or server shutdown)."""


class Fail(Exception):
    """The client broke a rule: fail the connection with |code|."""

    def __init__(self, code: int, closing: bool = False):
        super().__init__(code)
        self.code = code
        self.closing = closing  # the client's Close already arrived


class Conn:
    """One accepted connection: buffered reads, whole-frame parsing."""

    def __init__(self, sock: socket.socket, server: "BadServer"):
        self.sock = sock
        self.server = server
        self.buf = b""

    def fill(self) -> None:
        try:
            data = self.sock.recv(65536)
        except OSError:
            raise Closed()
        if not data:
            raise Closed()
        self.buf += data

    def read_head(self, limit: int = 16384) -> bytes:
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > limit:
                raise Closed()
            self.fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head

    def need(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self):
        """Returns (fin, rsv, opcode, masked, payload), unmasked."""
        b0, b1 = self.need(2)
        fin, rsv, op = b0 >> 7, (b0 >> 4) & 7, b0 & 0x0F
        masked, n = b1 >> 7, b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.need(8))[0]
            if n >> 63:
                raise Fail(1002)
        if n > (16 << 20) + 1024:
            raise Fail(1009)
        key = self.need(4) if masked else b""
        data = self.need(n)
        if masked and n:
            stream = (key * (n // 4 + 1))[:n]
            x = int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")
            data = x.to_bytes(n, "big")
        return fin, rsv, op, masked, data

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError:
            raise Closed()

    def send_frame(self, op: int, payload: bytes = b"") -> None:
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | op, n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | op, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | op, 127, n)
        self.send(head + payload)

    def send_close(self, code=None) -> None:
        self.send_frame(OP_CLOSE, b"" if code is None
                        else struct.pack("!H", code))

    def drain(self) -> None:
        """Reads and discards until the peer closes (or the timeout)."""
        while True:
            self.buf = b""
            self.fill()


class BadServer:
    """A threaded WebSocket server on 127.0.0.1:<OS port> breaking one
    rule (see the module docstring). close() stops it and every
    connection within a few seconds."""

    def __init__(self, kind: str):
        if kind not in KINDS:
            raise ValueError("unknown kind %r" % kind)
        self.kind = kind
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(128)
        self.port = self.lsock.getsockname()[1]
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.conns = set()
        self.threads = []
        self.connections = 0      # accepted so far
        self.errors = []          # unexpected exceptions in handlers
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    @property
    def url(self) -> str:
        return "ws://127.0.0.1:%d/" % self.port

    # ------------------------------------------------------------ plumbing

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.lsock.accept()
            except OSError:
                return
            sock.settimeout(IO_TIMEOUT)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            t = threading.Thread(target=self._serve, args=(sock,),
                                 daemon=True)
            with self.lock:
                if self.stopping.is_set():
                    sock.close()
                    return
                self.conns.add(sock)
                self.threads.append(t)
                self.connections += 1
            t.start()

    def _serve(self, sock: socket.socket) -> None:
        conn = Conn(sock, self)
        try:
            self._handle(conn)
        except Closed:
            pass
        except Exception as e:  # a bug in this file: make the test see it
            self.errors.append("%s: %r" % (self.kind, e))
        finally:
            with self.lock:
                self.conns.discard(sock)
            try:
                sock.close()
            except OSError:
                pass

    def close(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        try:
            # shutdown() wakes the thread blocked in accept(); close()
            # alone does not on Linux.
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.lsock.close()
        except OSError:
            pass
        with self.lock:
            conns = list(self.conns)
            threads = list(self.threads)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.acceptor.join(timeout)
        for t in threads:
            t.join(timeout)
        left = [t for t in threads if t.is_alive()]
        if left:
            raise RuntimeError("%s: %d connection threads still running" %
                               (self.kind, len(left)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ----------------------------------------------------------- behaviour

    def _handle(self, conn: Conn) -> None:
        head = conn.read_head()
        if self.kind == "no_handshake":
            conn.drain()
        if self.kind == "http404":
            body = b"no WebSocket here\n"
            conn.send(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain"
                      b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                      % len(body) + body)
            return
        key = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        if key is None:
            conn.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                      b"Connection: close\r\n\r\n")
            return
        conn.send(("HTTP/1.1 101 Switching Protocols\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\n"
                   "Server: wsspec-badserver/%s\r\n\r\n"
                   % (accept_for(key), self.kind)).encode())
        if self.kind == "close_at_once":
            return
        if self.kind == "flood":
            self._flood(conn)
            return
        try:
            self._echo(conn)
        except Fail as f:
            # RFC 6455 Section 7.1.7: fail the connection with a Close.
            conn.send_close(f.code)
            if f.closing:
                # The client's (invalid) Close came first: the closing
                # handshake is complete, close TCP now.
                if self.kind == "no_tcp_close":
                    conn.drain()
                return
            self._closing(conn)

    def _flood(self, conn: Conn) -> None:
        frame = struct.pack("!BBQ", 0x80 | OP_BINARY, 127, 65536) + \
            b"\xab" * 65536
        while not self.stopping.is_set():
            conn.send(frame)

    def _huge(self, conn: Conn) -> None:
        conn.send(struct.pack("!BBQ", 0x80 | OP_BINARY, 127, (1 << 63) - 1))
        chunk = b"\xcd" * 65536
        while not self.stopping.is_set():
            conn.send(chunk)

    def _closing(self, conn: Conn) -> None:
        """After our Close: wait (bounded) for the client's Close or EOF,
        then return, which closes TCP (Section 7.1.1: the server closes
        first), except for no_tcp_close."""
        if self.kind == "no_tcp_close":
            conn.drain()
        conn.sock.settimeout(CLOSE_WAIT)
        try:
            while True:
                _, _, op, _, _ = conn.read_frame()
                if op == OP_CLOSE:
                    return
        except (Closed, Fail, socket.timeout):
            return

    def _reply_close(self, conn: Conn, payload: bytes) -> None:
        """A valid Close arrived: answer it and end the connection."""
        if self.kind == "wrong_close_code":
            conn.send_close(WRONG_CODE)
        elif payload:
            conn.send_close(struct.unpack("!H", payload[:2])[0])
        else:
            conn.send_close()
        if self.kind == "no_tcp_close":
            conn.drain()

    def _check_close(self, payload: bytes) -> None:
        """RFC 6455 Section 5.5.1 and 7.4: the Close payload's rules."""
        if len(payload) == 1:
            raise Fail(1002, closing=True)
        if len(payload) >= 2:
            if not valid_close_code(struct.unpack("!H", payload[:2])[0]):
                raise Fail(1002, closing=True)
            try:
                payload[2:].decode("utf-8")
            except UnicodeDecodeError:
                raise Fail(1007, closing=True)

    def _echo(self, conn: Conn) -> None:
        msg_op, parts, decoder = None, [], None
        first = True
        while True:
            fin, rsv, op, masked, data = conn.read_frame()
            if first and self.kind == "stall_mid_frame":
                conn.send(struct.pack("!BB", 0x80 | OP_BINARY, 125) +
                          b"\x00" * 10)
                conn.drain()
            if first and self.kind == "huge_frame":
                self._huge(conn)
                return
            first = False
            # Section 5.1: a client's frames are masked.
            if not masked:
                raise Fail(1002)
            # Section 5.2: RSV bits need an extension; reserved opcodes.
            bad = rsv != 0 or op not in DATA_OPS + CONTROL_OPS
            if bad and self.kind == "lax_frames":
                continue
            if bad:
                raise Fail(1002)
            if op in CONTROL_OPS:
                # Section 5.5: control frames are short and not fragmented.
                if not fin or len(data) > 125:
                    raise Fail(1002, closing=op == OP_CLOSE)
                if op == OP_PING and self.kind != "no_pong":
                    conn.send_frame(OP_PONG, data)
                elif op == OP_CLOSE:
                    self._check_close(data)
                    self._reply_close(conn, data)
                    return
                continue
            # Section 5.4: continuation only inside a message, and no new
            # message inside one.
            if (op == OP_CONT) != (msg_op is not None):
                raise Fail(1002)
            if msg_op is None:
                msg_op, parts = op, []
                decoder = codecs.getincrementaldecoder("utf-8")("strict")
            parts.append(data)
            # Section 8.1: fail fast on invalid UTF-8 in text.
            if msg_op == OP_TEXT and self.kind != "no_utf8":
                try:
                    decoder.decode(data, final=bool(fin))
                except UnicodeDecodeError:
                    raise Fail(1007)
            if fin:
                conn.send_frame(msg_op, b"".join(parts))
                msg_op, parts = None, []
