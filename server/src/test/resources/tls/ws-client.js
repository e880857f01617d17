// A Node client on the `ws` package (TlsClientsIT): connects to argv[2] trusting only the CA in
// argv[3], subscribes to argv[4], publishes "hello from node" and exits 0 once its own copy comes
// back. Prints every message it receives, one a line.
const WebSocket = require('ws');
const fs = require('fs');

const [url, caFile, channel] = process.argv.slice(2);
const ws = new WebSocket(url, { ca: fs.readFileSync(caFile) });
const send = (action, params) => ws.send(JSON.stringify({ action, params }));

ws.on('message', (data) => {
  const text = data.toString();
  console.log(text);
  const m = JSON.parse(text);
  if (m.info && m.info.client_name) {
    send('subscribe', { channel_name: channel });
  } else if (m.info && m.info.channel_name === channel) {
    send('publish', { channel_name: channel, content: 'hello from node' });
  } else if (m.content === 'hello from node') {
    ws.close(1000);
  }
});
ws.on('error', (e) => {
  console.error('error: ' + e.message);
  process.exit(1);
});
ws.on('close', (code) => process.exit(code === 1000 ? 0 : 2));
