// node ws echo server, the reference peer of bench/bench_echo_load.c:
//   node ws_echo_server.js [PORT]      (0 or absent: the OS picks)
// Prints `listening ws://127.0.0.1:PORT`, the same line as `wsspec echo`.
'use strict';
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: +process.argv[2] || 0, perMessageDeflate: false });
wss.on('connection', (sock) => {
  sock.on('error', () => {}); // without it a protocol error kills the process
  sock.on('message', (data, isBinary) => sock.send(data, { binary: isBinary }));
});
wss.on('listening', () => console.log('listening ws://127.0.0.1:' + wss.address().port));
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.exit(0));
