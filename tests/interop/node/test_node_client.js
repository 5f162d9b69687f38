// Node `ws` client against the C echo server.
//
// Usage: node test_node_client.js PORT
// Core checks: sizes around the frame-length boundaries, fragmentation,
// pings, UTF-8 text, and the closing handshake with 1000.
'use strict';

const WebSocket = require('ws');

const { portArg, check, runDriver, nextMessage } = require('./common');

const port = portArg('test_node_client.js');

function pattern(n, seed) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function nextPong(ws) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no pong')), 5000);
    ws.once('pong', (data) => { clearTimeout(timer); resolve(data); });
  });
}

async function main() {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/node`, { maxPayload: 64 << 20 });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });

  for (const n of [0, 1, 125, 126, 65535, 65536, 1 << 20]) {
    const text = 'abcdefghij'.repeat(Math.ceil(n / 10) + 1).slice(0, n);
    ws.send(text);
    let m = await nextMessage(ws);
    check(`text ${n} echoed`, !m.isBinary && m.data.toString('utf8') === text);
    const bin = pattern(n, n & 0xff);
    ws.send(bin);
    m = await nextMessage(ws);
    check(`binary ${n} echoed`, m.isBinary && Buffer.compare(m.data, bin) === 0,
      `got ${m.data.length} bytes`);
  }

  // Fragmented text: three frames, the first two with fin=false.
  ws.send('frag', { fin: false });
  ws.send('mented ', { fin: false });
  ws.send('wörld', { fin: true });
  let m = await nextMessage(ws);
  check('fragmented text echoed whole', m.data.toString('utf8') === 'fragmented wörld');

  const parts = [pattern(1000, 1), pattern(70000, 2), pattern(5, 3)];
  parts.forEach((p, i) => ws.send(p, { binary: true, fin: i === parts.length - 1 }));
  m = await nextMessage(ws);
  check('fragmented binary echoed whole', m.isBinary && Buffer.compare(m.data, Buffer.concat(parts)) === 0);

  const unicode = 'héllo wörld ✓ 中文 😀 '.repeat(50);
  ws.send(unicode);
  m = await nextMessage(ws);
  check('unicode text echoed', m.data.toString('utf8') === unicode);

  for (const payload of [Buffer.alloc(0), Buffer.from('ping!'), pattern(125, 9)]) {
    const pong = nextPong(ws);
    ws.ping(payload);
    try {
      const data = await pong;
      check(`pong echoes ${payload.length}-byte ping payload`, Buffer.compare(data, payload) === 0);
    } catch (e) {
      check(`pong for ${payload.length}-byte ping`, false, e.message);
    }
  }

  const closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason })));
  ws.close(1000, 'bye');
  const { code } = await closed;
  check('server answered close with 1000', code === 1000, `got ${code}`);
}

runDriver('interop node-client', main);
