#!/usr/bin/python3
"""tornado (Debian python3-tornado 6.2) echo server with the library's
defaults (websocket_max_message_size 10 MiB, no compression) on the route
/ws: /usr/bin/python3 tornado_echo.py [PORT]  (0 or absent: the OS picks).
Prints `listening ws://127.0.0.1:PORT/ws` once it accepts.

check_origin is relaxed to accept any Origin: tornado's default answers 403
to a cross-origin Origin header (wsspec run sends none unless asked)."""
import asyncio
import signal
import sys

import tornado.httpserver
import tornado.netutil
import tornado.web
import tornado.websocket


class Echo(tornado.websocket.WebSocketHandler):
    def check_origin(self, origin):
        return True

    def on_message(self, message):  # str for text, bytes for binary
        self.write_message(message, binary=isinstance(message, bytes))


async def main(port):
    sockets = tornado.netutil.bind_sockets(port, address="127.0.0.1")
    server = tornado.httpserver.HTTPServer(
        tornado.web.Application([(r"/ws", Echo)]))
    server.add_sockets(sockets)
    print("listening ws://127.0.0.1:%d/ws" % sockets[0].getsockname()[1],
          flush=True)
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(s, stop.set)
    await stop.wait()
    server.stop()


asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
