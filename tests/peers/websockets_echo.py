#!/usr/bin/python3
"""Python websockets (Debian python3-websockets 10.4) echo server with the
library's defaults (max_size 1 MiB, permessage-deflate offered, pings every
20 s): /usr/bin/python3 websockets_echo.py [PORT]  (0 or absent: the OS
picks). Prints `listening ws://127.0.0.1:PORT` once it accepts."""
import asyncio
import signal
import sys

import websockets


async def echo(ws, path=None):  # 10.x passes the path; 11+ does not
    async for msg in ws:  # str for text, bytes for binary
        await ws.send(msg)


async def main(port):
    stop = asyncio.get_running_loop().create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(s, stop.set_result, None)
    async with websockets.serve(echo, "127.0.0.1", port) as server:
        port = server.sockets[0].getsockname()[1]
        print("listening ws://127.0.0.1:%d" % port, flush=True)
        await stop


asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
