// Node `ws` client with permessage-deflate against `echo_server --deflate`.
//
// Usage: node test_node_deflate.js PORT
// For each parameter combination (context takeover on/off each way, windows
// 9..15 each side, as tests/interop/deflate_common.py): asserts the
// negotiated extension (ws.extensions and the Sec-WebSocket-Extensions
// response header), and byte-identical echoes of text and binary messages,
// whole (twice: context takeover) and fragmented (fin: false). The full size
// list (0 B .. 4 MiB) runs for a few combinations, small sizes for the rest.
'use strict';

const crypto = require('crypto');
const WebSocket = require('ws');

const { portArg, check, runDriver, nextMessage } = require('./common');

const port = portArg('test_node_deflate.js');

const SMALL = [0, 1, 125];
const FULL = [0, 1, 125, 64 << 10, 4 << 20];
const FULL_COMBOS = new Set(['0,0,15,15', '1,1,9,9', '0,1,10,14', '1,0,12,12']);

function combos() {
  const out = [];
  for (const snct of [false, true])
    for (const cnct of [false, true])
      for (let w = 9; w <= 15; w++) {
        out.push([snct, cnct, w, w]);
        out.push([snct, cnct, w, 24 - w]);
      }
  return out;
}

// Repeats of a 2000-byte block ~2000 bytes apart (see deflate_common.payload).
function payload(n, seed, text) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;';
  let state = seed * 2654435761 + n;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 8;
  const block = Buffer.alloc(2016);
  for (let i = 0; i < block.length; i++)
    block[i] = text ? alphabet.charCodeAt(next() % alphabet.length) : next() & 0xff;
  const out = Buffer.alloc(n);
  for (let off = 0; off < n; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, n - off));
    block[next() % block.length] = text ? 0x41 : next() & 0xff; // small changes per repeat
  }
  return out;
}

function parseHeader(value) {
  const out = {};
  for (const item of (value || '').split(';')) {
    const [k, v] = item.trim().split('=');
    if (k) out[k.trim()] = v === undefined ? true : Number(v.replace(/"/g, ''));
  }
  return out;
}

async function runCombo(combo) {
  const [snct, cnct, sw, cw] = combo;
  const tag = `[ws->C snct=${+snct} cnct=${+cnct} smwb=${sw} cmwb=${cw}]`;
  let responseHeader = null;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/node-deflate`, {
    maxPayload: 64 << 20,
    perMessageDeflate: {
      serverNoContextTakeover: snct,
      clientNoContextTakeover: cnct,
      serverMaxWindowBits: sw,
      clientMaxWindowBits: cw,
      threshold: 0,
    },
  });
  ws.once('upgrade', (res) => { responseHeader = res.headers['sec-websocket-extensions']; });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });

  const h = parseHeader(responseHeader);
  check(`${tag} extension negotiated`, ws.extensions.startsWith('permessage-deflate') && h['permessage-deflate'] === true,
        `extensions ${JSON.stringify(ws.extensions)}`);
  check(`${tag} server_no_context_takeover`, !!h.server_no_context_takeover === snct, responseHeader);
  check(`${tag} client_no_context_takeover`, !!h.client_no_context_takeover === cnct, responseHeader);
  check(`${tag} server_max_window_bits`, (h.server_max_window_bits || 15) === sw, responseHeader);
  check(`${tag} client_max_window_bits`, (h.client_max_window_bits || 15) === cw, responseHeader);
  const pmd = ws._extensions['permessage-deflate'];
  check(`${tag} ws accepted params`, pmd && pmd.params && (pmd.params.server_max_window_bits || 15) === sw,
        pmd && JSON.stringify(pmd.params));

  const sizes = FULL_COMBOS.has(`${+snct},${+cnct},${sw},${cw}`) ? FULL : SMALL;
  for (const n of sizes) {
    for (const text of [false, true]) {
      const kind = text ? 'text' : 'binary';
      const data = payload(n, n + 1, text);
      for (const attempt of ['whole', 'again']) {
        ws.send(text ? data.toString('latin1') : data, { binary: !text });
        const m = await nextMessage(ws, 20000);
        check(`${tag} ${kind} ${n} B ${attempt}`, m.isBinary === !text && Buffer.compare(m.data, data) === 0,
              `got ${m.data.length} bytes, binary=${m.isBinary}`);
      }
      // Fragmented: three frames, the last with fin.
      const step = Math.max(1, Math.floor(n / 3));
      const parts = [data.subarray(0, step), data.subarray(step, 2 * step), data.subarray(2 * step)];
      parts.forEach((p, i) => ws.send(p, { binary: !text, fin: i === parts.length - 1 }));
      const m = await nextMessage(ws, 20000);
      check(`${tag} ${kind} ${n} B fragmented`, m.isBinary === !text && Buffer.compare(m.data, data) === 0,
            `got ${m.data.length} bytes`);
    }
  }
  const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  ws.close(1000);
  check(`${tag} close 1000`, (await closed) === 1000);
}

async function main() {
  for (const combo of combos()) await runCombo(combo);
  // ws' default offer (client_max_window_bits, threshold 0).
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: { threshold: 0 } });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  check('[ws->C default offer] negotiated', ws.extensions.startsWith('permessage-deflate'), ws.extensions);
  const big = crypto.randomBytes(1 << 16);
  ws.send(big);
  const m = await nextMessage(ws, 20000);
  check('[ws->C default offer] 64 KiB random binary', Buffer.compare(m.data, big) === 0);
  ws.close(1000);
}

runDriver('interop node-deflate', main);
