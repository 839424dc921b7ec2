// node ws client scenario against an echo server, for tests/py/test_20_clients.py.
//
//   node ws_client.js URL [PROTOCOL,...]
//
// Runs the steps below one after the other on one connection and prints a
// single JSON line: {"open": {...}, "steps": {name: {ok, detail}}, "close":
// {code, reason}}. Exit status 0 when every step passed, 1 otherwise, 2 on
// a timeout (15 s for the whole scenario).
'use strict';
const crypto = require('crypto');
const WebSocket = require('ws');

const url = process.argv[2];
const protocols = process.argv[3] ? process.argv[3].split(',') : undefined;
const out = { open: null, steps: {}, close: null, error: null };
const done = (status) => { console.log(JSON.stringify(out)); process.exit(status); };
setTimeout(() => { out.error = 'timeout'; done(2); }, 15000);

// ws 8 defaults: perMessageDeflate offered, maxPayload 100 MiB.
const ws = new WebSocket(url, protocols, { perMessageDeflate: true });
ws.on('error', (e) => { out.error = String(e.message); done(1); });

let waiter = null; // resolves with the next event of interest
ws.on('message', (data, isBinary) => { if (waiter) waiter({ kind: 'message', data, isBinary }); });
ws.on('pong', (data) => { if (waiter) waiter({ kind: 'pong', data }); });
ws.on('close', (code, reason) => {
  out.close = { code, reason: reason.toString() };
  if (waiter) waiter({ kind: 'close', code, reason });
});
const next = () => new Promise((resolve) => { waiter = (ev) => { waiter = null; resolve(ev); }; });
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

async function echo(name, payload, binary) {
  const p = next();
  ws.send(payload, { binary });
  const ev = await p;
  const sent = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const ok = ev.kind === 'message' && ev.isBinary === binary && ev.data.equals(sent);
  out.steps[name] = { ok, detail: ev.kind === 'message'
    ? { binary: ev.isBinary, len: ev.data.length, sha256: sha(ev.data), sent_len: sent.length, sent_sha256: sha(sent) }
    : { event: ev.kind } };
}

ws.on('open', async () => {
  out.open = { protocol: ws.protocol, extensions: ws.extensions };
  await echo('text', 'hello', false);
  await echo('text_utf8', 'h\u00e9llo w\u00f6rld \u20ac \ud834\udd1e', false);
  await echo('text_empty', '', false);
  await echo('binary', Buffer.from(Array.from({ length: 256 }, (_, i) => i)), true);
  await echo('binary_empty', Buffer.alloc(0), true);
  await echo('binary_large', crypto.randomBytes(2 * 1024 * 1024 + 3), true);
  await echo('text_large', '\u00e9\u20ac\ud834\udd1ea'.repeat(110000), false); // 1.1 MB of UTF-8
  {
    const p = next();
    ws.ping(Buffer.from('ping-1'));
    const ev = await p;
    out.steps.ping = { ok: ev.kind === 'pong' && ev.data.toString() === 'ping-1',
                       detail: { event: ev.kind, data: ev.data ? ev.data.toString() : null } };
  }
  const p = next();
  ws.close(4321, 'bye');
  const ev = await p;
  // The server answers with the peer's code (the reason is not echoed).
  out.steps.close = { ok: ev.kind === 'close' && ev.code === 4321 && ev.reason.length === 0,
                      detail: out.close };
  done(Object.values(out.steps).every((s) => s.ok) ? 0 : 1);
});
