// node ws 8 echo server with the library's defaults (maxPayload 100 MiB,
// permessage-deflate off), for the conformance peer matrix:
//   node ws_echo.js [PORT]      (0 or absent: the OS picks)
// Prints `listening ws://127.0.0.1:PORT` once it accepts.
'use strict';
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: +process.argv[2] || 0 });
wss.on('connection', (sock) => {
  // Without an error handler the first protocol error (a bad frame, a
  // message over maxPayload) is an uncaught exception: the process dies.
  sock.on('error', () => {});
  sock.on('message', (data, isBinary) => sock.send(data, { binary: isBinary }));
});
wss.on('listening', () => console.log('listening ws://127.0.0.1:' + wss.address().port));
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.exit(0));
