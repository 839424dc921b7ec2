// WebSocket-Node (npm `websocket` 1.0) echo server with the library's
// defaults (maxReceivedFrameSize 64 KiB, maxReceivedMessageSize 1 MiB,
// outgoing fragmentation above 16 KiB, keepalive pings every 20 s):
//   node wsnode_echo.js [PORT]  (0 or absent: the OS picks)
// Prints `listening ws://127.0.0.1:PORT` once it accepts.
'use strict';
const http = require('http');
const WebSocketServer = require('websocket').server;
const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
const wss = new WebSocketServer({ httpServer: server, autoAcceptConnections: false });
wss.on('request', (req) => {
  const conn = req.accept(null, req.origin); // any (or no) subprotocol
  conn.on('error', () => {});
  conn.on('message', (m) => {
    if (m.type === 'utf8') conn.sendUTF(m.utf8Data); else conn.sendBytes(m.binaryData);
  });
});
server.listen(+process.argv[2] || 0, '127.0.0.1',
  () => console.log('listening ws://127.0.0.1:' + server.address().port));
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.exit(0));
