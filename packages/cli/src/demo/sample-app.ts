// The demo's sample service: a tiny HTTP server that answers with its version, so the client can
// count the split. Run as its own process: node sample-app.js --listen 127.0.0.11:8080 --version v1
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    listen: { type: 'string' },
    version: { type: 'string' },
    name: { type: 'string', default: 'reviews' },
  },
});
const [host, port] = (values.listen ?? '127.0.0.1:8080').split(':');
const version = values.version ?? 'v1';

const server = createServer((req, res) => {
  const body = JSON.stringify({
    service: values.name,
    version,
    hostname: hostname(),
    path: req.url,
    headers: req.headers,
  });
  res.writeHead(200, { 'content-type': 'application/json', 'x-version': version });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), host, () => process.send?.('ready'));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
