// What keeping the client's address costs per upstream connection (original_src, TPROXY inbound):
// sequential connect + one-byte exchange + close to a loopback server, from the proxy's own
// address (net.connect) and from another address through the transparent-socket addon
// (IP_TRANSPARENT + SO_MARK + bind, then Node connects). Rounds interleaved, medians reported.
// Needs root (CAP_NET_ADMIN) and `npm run build` (the addon). Loopback only.
// Usage: node packages/proxy/bench/original-src.mjs [connections-per-round] [rounds]
import net from 'node:net';
import { connectFromSource } from '../dist/listener/original-src.js';

const n = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 5);
const server = net.createServer((s) => s.once('data', () => s.end('k'))).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const port = server.address().port;

const once = (socket) =>
  new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => socket.write('x'));
    socket.once('data', () => socket.end());
    socket.once('close', resolve);
  });

const kinds = {
  'net.connect (own address)': () => net.connect({ host: '127.0.0.1', port }),
  'original source (addon)': () => {
    const r = connectFromSource({ address: '127.0.0.9', mark: 1337 }, '127.0.0.1', port);
    if ('error' in r) throw new Error(r.error);
    return r.socket;
  },
};
const results = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
for (let round = 0; round < rounds; round++)
  for (const [name, make] of Object.entries(kinds)) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await once(make());
    results[name].push((n * 1e9) / Number(process.hrtime.bigint() - t0));
  }
server.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(results['net.connect (own address)']);
console.log(`${n} sequential connections per round, ${rounds} rounds (connections/s, median):`);
for (const [name, xs] of Object.entries(results))
  console.log(
    `  ${name.padEnd(28)} ${median(xs).toFixed(0).padStart(6)}  (x${(median(xs) / base).toFixed(2)})`,
  );
