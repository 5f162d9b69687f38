// A Node `ws` echo server with permessage-deflate, for the C client.
//
// Usage: node ws_deflate_echo_server.js ['{"serverNoContextTakeover":true,...}']
// The optional JSON adds perMessageDeflate options (threshold is always 0,
// so every message is compressed). Prints `listening on PORT` (127.0.0.1,
// ephemeral) and echoes every message, with its type, until SIGTERM.
'use strict';

const WebSocket = require('ws');

const extra = process.argv[2] ? JSON.parse(process.argv[2]) : {};
const wss = new WebSocket.Server({
  host: '127.0.0.1',
  port: 0,
  maxPayload: 256 << 20,
  perMessageDeflate: { threshold: 0, ...extra },
});
wss.on('listening', () => console.log(`listening on ${wss.address().port}`));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => ws.terminate());
});
process.on('SIGTERM', () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => process.exit(0));
});
