// The floor of what Node can do as an HTTP/1.1 reverse proxy: node:http in, an undici Pool with
// keep-alive out, no routing. Usage: node undici-proxy.mjs <listen-port> <upstream-port>
import http from 'node:http';
import { Pool } from 'undici';

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 64, pipelining: 1 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te']);
http
  .createServer({ keepAliveTimeout: 60_000 }, async (req, res) => {
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
    try {
      const r = await pool.request({
        method: req.method,
        path: req.url,
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
      });
      const out = {};
      for (const [k, v] of Object.entries(r.headers)) if (!HOP.has(k)) out[k] = v;
      res.writeHead(r.statusCode, out);
      r.body.pipe(res);
    } catch {
      res.writeHead(502);
      res.end();
    }
  })
  .listen(listenPort, '127.0.0.1');
