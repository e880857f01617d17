// A Node `ws` client driven line by line (CompressionIT): argv[2] is the URL. It offers
// permessage-deflate (ws's default) and compresses every message it sends (threshold 0).
// stdin, one JSON object a line: {"send": "text"} or {"fragments": ["a", "b", ...]} (one message in
// several frames, compressed: RSV1 on the first only), or {"close": true}.
// stdout, one JSON object a line: {"event":"open","extensions":...}, {"event":"message","data":...},
// {"event":"close","code":N,"reason":...}, {"event":"error","message":...}.
'use strict';
const WebSocket = require('ws');
const readline = require('readline');

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const ws = new WebSocket(process.argv[2], { perMessageDeflate: { threshold: 0 } });

ws.on('open', () => out({ event: 'open', extensions: String(ws.extensions) }));
ws.on('message', (data, isBinary) => out({ event: 'message', binary: isBinary, data: data.toString('utf8') }));
ws.on('close', (code, reason) => {
  out({ event: 'close', code, reason: reason.toString('utf8') });
  process.exit(0);
});
ws.on('error', (e) => out({ event: 'error', message: String(e && e.message) }));

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line);
  if (cmd.send !== undefined) {
    ws.send(cmd.send, { compress: true });
  } else if (cmd.fragments) {
    cmd.fragments.forEach((part, i) => ws.send(part, { compress: true, fin: i === cmd.fragments.length - 1 }));
  } else if (cmd.close) {
    ws.close(1000);
  }
});
