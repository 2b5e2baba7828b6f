// Benchmark (prints figures, asserts nothing): mesh mTLS vs plaintext on loopback in the same run
// — request latency over a kept-alive connection, and new connections per second — plus CSR
// signing throughput of the CA for ECDSA P-256 and RSA 2048. Needs `npm run build` first.
//   bash scripts/run.sh node packages/ca/bench/mtls-bench.mjs
import * as http from 'node:http';
import * as https from 'node:https';
import {
  CertificateAuthority,
  createCsr,
  createRootCa,
  generateKeyPair,
  istioMutualUpstreamTlsContext,
  meshDownstreamTlsContext,
  privateKeyToPem,
  tlsClientOptions,
  tlsServerOptions,
} from '@skein/ca';

const N = Number(process.env.BENCH_REQUESTS ?? 4000);
const CONNS = Number(process.env.BENCH_CONNECTIONS ?? 400);
const body = Buffer.alloc(1024, 'x');
const b64 = (s) => Buffer.from(s).toString('base64');

async function secrets(ca, id) {
  const keys = await generateKeyPair();
  const chain = (await ca.signWorkloadCsr(await createCsr(keys, { uris: [id] }), id)).certChain;
  const t = {
    default: {
      tlsCertificate: {
        certificateChain: { inlineBytes: b64(chain.slice(0, -1).join('')) },
        privateKey: { inlineBytes: b64(await privateKeyToPem(keys.privateKey)) },
      },
    },
    ROOTCA: { validationContext: { trustedCa: { inlineBytes: b64(chain.at(-1)) } } },
  };
  return (n) => t[n];
}

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
async function latency(request, n) {
  const xs = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await request();
    xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  xs.sort((a, b) => a - b);
  return { p50: pct(xs, 50), p90: pct(xs, 90), p99: pct(xs, 99) };
}
function get(mod, opts) {
  return new Promise((resolve, reject) => {
    const req = mod.get(opts, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
  });
}
const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)));

const ca = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }));
const server = await secrets(ca, 'spiffe://cluster.local/ns/b/sa/server');
const client = await secrets(ca, 'spiffe://cluster.local/ns/a/sa/client');
const handler = (_q, r) => r.end(body);
const plain = http.createServer(handler);
const mtls = https.createServer(
  { ...tlsServerOptions(meshDownstreamTlsContext(), server), ALPNProtocols: ['http/1.1'] },
  handler,
);
const pPort = await listen(plain);
const mPort = await listen(mtls);
const clientTls = {
  ...tlsClientOptions(
    istioMutualUpstreamTlsContext({
      sni: 'outbound_.80_._.b',
      subjectAltNames: ['spiffe://cluster.local/ns/b/sa/server'],
      alpn: ['http/1.1'],
    }),
    client,
  ),
};
delete clientTls.ALPNProtocols;

const keepPlain = new http.Agent({ keepAlive: true, maxSockets: 1 });
const keepTls = new https.Agent({ keepAlive: true, maxSockets: 1, ...clientTls });
await latency(() => get(http, { port: pPort, host: '127.0.0.1', agent: keepPlain }), 500); // warm-up
await latency(() => get(https, { port: mPort, host: '127.0.0.1', agent: keepTls }), 500);
const lp = await latency(() => get(http, { port: pPort, host: '127.0.0.1', agent: keepPlain }), N);
const lm = await latency(() => get(https, { port: mPort, host: '127.0.0.1', agent: keepTls }), N);

const freshPlain = new http.Agent({ keepAlive: false });
const freshTls = new https.Agent({ keepAlive: false, ...clientTls });
let t0 = performance.now();
for (let i = 0; i < CONNS; i++) await get(http, { port: pPort, host: '127.0.0.1', agent: freshPlain });
const cpsPlain = CONNS / ((performance.now() - t0) / 1000);
t0 = performance.now();
for (let i = 0; i < CONNS; i++) await get(https, { port: mPort, host: '127.0.0.1', agent: freshTls });
const cpsTls = CONNS / ((performance.now() - t0) / 1000);

async function signRate(alg, n) {
  const c = await CertificateAuthority.create(
    await createRootCa({ trustDomain: 'cluster.local', keyAlgorithm: alg }),
  );
  const keys = await generateKeyPair(alg);
  const csr = await createCsr(keys, { uris: ['spiffe://cluster.local/ns/a/sa/b'] });
  const s = performance.now();
  for (let i = 0; i < n; i++) await c.signWorkloadCsr(csr, 'spiffe://cluster.local/ns/a/sa/b');
  return n / ((performance.now() - s) / 1000);
}
const ecdsa = await signRate('ECDSA_P256', 300);
const rsa = await signRate('RSA_2048', 100);

const f = (x) => x.toFixed(3);
console.log(`1 KB GET over one kept-alive connection, ${N} sequential requests (ms):`);
console.log(`  plaintext  p50 ${f(lp.p50)}  p90 ${f(lp.p90)}  p99 ${f(lp.p99)}`);
console.log(`  mesh mTLS  p50 ${f(lm.p50)}  p90 ${f(lm.p90)}  p99 ${f(lm.p99)}`);
console.log(
  `  added by mTLS: p90 +${f(lm.p90 - lp.p90)} ms (x${(lm.p90 / lp.p90).toFixed(2)}), p99 +${f(lm.p99 - lp.p99)} ms`,
);
console.log(
  `new connection per request, ${CONNS} sequential: plaintext ${cpsPlain.toFixed(0)}/s, mTLS ${cpsTls.toFixed(0)}/s (x${(cpsTls / cpsPlain).toFixed(2)})`,
);
console.log(`CA signing: ECDSA P-256 ${ecdsa.toFixed(0)} certs/s, RSA 2048 ${rsa.toFixed(0)} certs/s`);
keepPlain.destroy();
keepTls.destroy();
plain.close();
mtls.close();
