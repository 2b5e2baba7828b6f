// The `http-proxy` npm package as a reverse proxy with a keep-alive agent.
// Usage: node http-proxy.mjs <listen-port> <upstream-port>
import http from 'node:http';
import httpProxy from 'http-proxy';

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${upstreamPort}`, agent });
proxy.on('error', (_e, _req, res) => {
  res.writeHead?.(502);
  res.end();
});
http
  .createServer({ keepAliveTimeout: 60_000 }, (req, res) => proxy.web(req, res))
  .listen(listenPort, '127.0.0.1');
