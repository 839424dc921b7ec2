#!/usr/bin/python3
"""aiohttp (Debian python3-aiohttp 3.8) echo server with the library's
defaults (WebSocketResponse(): max_msg_size 4 MiB, compress=True,
autoclose, autoping) on the route /ws:
/usr/bin/python3 aiohttp_echo.py [PORT]  (0 or absent: the OS picks).
Prints `listening ws://127.0.0.1:PORT/ws` once it accepts."""
import asyncio
import signal
import sys

from aiohttp import WSMsgType, web


async def ws_handler(request):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def main(port):
    app = web.Application()
    app.router.add_get("/ws", ws_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = runner.addresses[0][1]
    print("listening ws://127.0.0.1:%d/ws" % port, flush=True)
    stop = asyncio.get_running_loop().create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(s, stop.set_result, None)
    await stop
    await runner.cleanup()


asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
