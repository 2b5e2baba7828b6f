// Benchmark (prints figures, asserts nothing): two real skein-proxies in front of a 1 KB HTTP
// backend, once over mesh mTLS (certificates from the agent's SDS, contexts from @skein/ca) and
// once in plaintext, measured in the same run against the backend called directly.
//   npm run build && bash scripts/run.sh node packages/agent/bench/mtls-sidecars.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkloadCertificate, buildBootstrap, startSdsServer } from '@skein/agent';
import {
  CertificateAuthority,
  DOWNSTREAM_TLS_TYPE,
  UPSTREAM_TLS_TYPE,
  createRootCa,
  istioMutualUpstreamTlsContext,
  meshDownstreamTlsContext,
} from '@skein/ca';

const N = Number(process.env.BENCH_REQUESTS ?? 3000);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skein-agent-bench-'));
const freePort = () =>
  new Promise((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => r(p));
    });
  });
const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const listener = (name, port, cluster, tls) => ({
  name,
  address: { socketAddress: { address: '127.0.0.1', portValue: port } },
  filterChains: [
    {
      ...(tls
        ? {
            transportSocket: {
              name: 'tls',
              typedConfig: { '@type': DOWNSTREAM_TLS_TYPE, ...meshDownstreamTlsContext() },
            },
          }
        : {}),
      filters: [
        {
          name: 'envoy.filters.network.http_connection_manager',
          typedConfig: {
            '@type': HCM,
            statPrefix: name,
            routeConfig: {
              virtualHosts: [
                { name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] },
              ],
            },
            httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER } }],
          },
        },
      ],
    },
  ],
});
const cluster = (name, port, sans) => ({
  name,
  type: 'STATIC',
  connectTimeout: '2s',
  loadAssignment: {
    clusterName: name,
    endpoints: [
      {
        lbEndpoints: [
          { endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } } },
        ],
      },
    ],
  },
  ...(sans
    ? {
        transportSocket: {
          name: 'tls',
          typedConfig: {
            '@type': UPSTREAM_TLS_TYPE,
            ...istioMutualUpstreamTlsContext({
              sni: 'outbound_.80_._.backend',
              subjectAltNames: sans,
              alpn: ['http/1.1'],
            }),
          },
        },
      }
    : {}),
});

const ca = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }));
async function workload(name) {
  const id = `spiffe://cluster.local/ns/bench/sa/${name}`;
  const cert = new WorkloadCertificate({
    signer: { sign: (csr, ttl) => ca.signWorkloadCsr(csr, id, ttl).then((r) => r.certChain) },
  });
  await cert.start();
  const socketPath = join(dir, `${name}.sock`);
  const sds = await startSdsServer({ socketPath, certificate: cert });
  return { id, cert, sds, socketPath };
}
function proxy(name, w, listeners, clusters) {
  const b = buildBootstrap({
    podName: name,
    namespace: 'bench',
    podIp: '127.0.0.1',
    discovery: { unixSocket: join(dir, 'none.sock') },
    sdsSocket: w.socketPath,
    admin: { address: '127.0.0.1', port: 0 },
    statsPort: null,
    readinessPort: null,
  });
  delete b.dynamicResources;
  b.staticResources.clusters = [
    ...b.staticResources.clusters.filter((c) => c.name !== 'xds-grpc'),
    ...clusters,
  ];
  b.staticResources.listeners = listeners;
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(b));
  return spawn(join(root, 'bin/skein-proxy'), ['-c', file], { stdio: 'ignore' });
}

const body = Buffer.alloc(1024, 'x');
const backend = http.createServer((_q, r) => r.end(body));
const backendPort = await new Promise((r) => backend.listen(0, '127.0.0.1', () => r(backend.address().port)));
const [sMtls, sPlain, cMtls, cPlain] = [
  await freePort(),
  await freePort(),
  await freePort(),
  await freePort(),
];
const server = await workload('server');
const client = await workload('client');
const procs = [
  proxy(
    'server',
    server,
    [listener('in-mtls', sMtls, 'backend', true), listener('in-plain', sPlain, 'backend', false)],
    [cluster('backend', backendPort)],
  ),
  proxy(
    'client',
    client,
    [listener('out-mtls', cMtls, 'to-mtls', false), listener('out-plain', cPlain, 'to-plain', false)],
    [cluster('to-mtls', sMtls, [server.id]), cluster('to-plain', sPlain)],
  ),
];

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = (port) =>
  new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
  });
for (const p of [cMtls, cPlain]) {
  for (let i = 0; ; i++) {
    try {
      await get(p);
      break;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
async function measure(port) {
  for (let i = 0; i < 300; i++) await get(port);
  const xs = [];
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    await get(port);
    xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  xs.sort((a, b) => a - b);
  return { p50: pct(xs, 50), p90: pct(xs, 90), p99: pct(xs, 99) };
}
const direct = await measure(backendPort);
const plain = await measure(cPlain);
const mtls = await measure(cMtls);
const f = (x) => x.toFixed(3);
console.log(`1 KB GET, ${N} sequential requests on one kept-alive connection (ms):`);
for (const [name, r] of [
  ['direct', direct],
  ['2 proxies, plaintext', plain],
  ['2 proxies, mesh mTLS', mtls],
]) {
  console.log(`  ${name.padEnd(22)} p50 ${f(r.p50)}  p90 ${f(r.p90)}  p99 ${f(r.p99)}`);
}
console.log(
  `  added by the proxy pair: plaintext p90 +${f(plain.p90 - direct.p90)}, mTLS p90 +${f(mtls.p90 - direct.p90)} (p99 +${f(mtls.p99 - direct.p99)})`,
);
console.log(`  mTLS over plaintext pair: p90 x${(mtls.p90 / plain.p90).toFixed(2)}`);
agent.destroy();
for (const p of procs) p.kill('SIGTERM');
await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', r)))));
server.cert.stop();
client.cert.stop();
await server.sds.close();
await client.sds.close();
backend.close();
rmSync(dir, { recursive: true, force: true });
