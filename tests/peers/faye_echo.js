// faye-websocket 0.11 echo server (websocket-driver 0.8) with the library's
// defaults (maxLength 64 MiB - 1, no extensions, no subprotocol):
//   node faye_echo.js [PORT]    (0 or absent: the OS picks)
// Prints `listening ws://127.0.0.1:PORT` once it accepts.
'use strict';
const http = require('http');
const WebSocket = require('faye-websocket');
const server = http.createServer((req, res) => { res.writeHead(426); res.end(); });
server.on('upgrade', (req, socket, body) => {
  if (!WebSocket.isWebSocket(req)) return socket.destroy();
  const ws = new WebSocket(req, socket, body);
  ws.on('error', () => {});
  // ev.data is a String for text and a Buffer for binary: send() keeps the type.
  ws.on('message', (ev) => ws.send(ev.data));
});
server.listen(+process.argv[2] || 0, '127.0.0.1',
  () => console.log('listening ws://127.0.0.1:' + server.address().port));
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.exit(0));
