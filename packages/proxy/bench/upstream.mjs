// Fallback upstream when nginx is not installed: 1 KB responses with keep-alive.
import http from 'node:http';

const body = Buffer.alloc(1024, 'x');
http
  .createServer({ keepAliveTimeout: 60_000 }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  })
  .listen(Number(process.argv[2]), '127.0.0.1');
