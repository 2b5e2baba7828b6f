// What sidecar injection costs the API server's call: round trips of a real pod AdmissionReview
// to skeind's /inject (decision, template, JSONPatch, over HTTPS with keep-alive), against a floor
// HTTPS server with the same certificate answering the same bytes precomputed. Interleaved rounds,
// medians of each round's p50 / p99; also /validate of a VirtualService.
//   node packages/control-plane/bench/webhook.bench.mjs [--rounds 5] [--requests 400]
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '@skein/control-plane';

const arg = (name, def) => Number(process.argv[process.argv.indexOf(name) + 1] || def);
const rounds = arg('--rounds', 5);
const requests = arg('--requests', 400);
const dir = mkdtempSync(join(tmpdir(), 'skein-webhook-bench-'));

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    generateName: 'reviews-v1-6f9c7d-',
    labels: { app: 'reviews', version: 'v1', 'pod-template-hash': '6f9c7d' },
    ownerReferences: [{ kind: 'ReplicaSet', name: 'reviews-v1-6f9c7d', controller: true }],
  },
  spec: {
    serviceAccountName: 'reviews',
    containers: [
      {
        name: 'reviews',
        image: 'reviews:v1',
        ports: [{ name: 'http', containerPort: 9080 }],
        readinessProbe: { httpGet: { path: '/health', port: 'http' } },
      },
    ],
  },
};
const vs = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews' },
  spec: {
    hosts: ['reviews'],
    http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 100 }] }],
  },
};
const review = (object) =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'b', namespace: 'bookinfo', operation: 'CREATE', object },
  });

const cp = await startControlPlane({
  xdsAddr: '127.0.0.1:0',
  httpAddr: '127.0.0.1:0',
  logLevel: 'none',
  ca: { dir, secureAddr: '127.0.0.1:0' },
  webhook: { addr: '127.0.0.1:0' },
});
const cert = cp.ca.servingCertificate();
const port = (a) => Number(a.split(':').pop());

function call(agent, p, path, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: p,
        path,
        method: 'POST',
        agent,
        ca: cp.ca.rootCertPem,
        servername: 'skeind.skein-system.svc',
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// The floor: same TLS, the real answers replayed without any work.
const agent0 = new Agent({ keepAlive: true, maxSockets: 1 });
const answers = {
  '/inject': await call(agent0, port(cp.webhooks.address), '/inject', review(pod)),
  '/validate': await call(agent0, port(cp.webhooks.address), '/validate', review(vs)),
};
agent0.destroy();
const floor = createServer({ key: cert.keyPem, cert: cert.certChainPem }, (req, res) => {
  req.resume();
  req.on('end', () => res.end(answers[req.url]));
});
await new Promise((r) => floor.listen(0, '127.0.0.1', r));
const floorPort = floor.address().port;

async function measure(p, path, body) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  await call(agent, p, path, body); // handshake outside the timing
  const ms = [];
  for (let i = 0; i < requests; i++) {
    const t = performance.now();
    await call(agent, p, path, body);
    ms.push(performance.now() - t);
  }
  agent.destroy();
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length * 0.5)], p99: ms[Math.floor(ms.length * 0.99)] };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
for (let r = 0; r < rounds; r++)
  for (const [name, path, body] of [
    ['inject', '/inject', review(pod)],
    ['validate', '/validate', review(vs)],
  ])
    for (const [who, p] of [
      ['skeind', port(cp.webhooks.address)],
      ['floor', floorPort],
    ]) {
      const m = await measure(p, path, body);
      const slot = (results[`${name} ${who}`] ??= { p50: [], p99: [] });
      slot.p50.push(m.p50);
      slot.p99.push(m.p99);
    }

console.log(`webhook round trips, ${rounds} interleaved rounds x ${requests} requests, medians (ms)`);
console.log(
  `answer sizes: /inject ${answers['/inject'].length} B, /validate ${answers['/validate'].length} B`,
);
for (const name of ['inject', 'validate']) {
  const s = results[`${name} skeind`];
  const f = results[`${name} floor`];
  const [s50, s99, f50, f99] = [median(s.p50), median(s.p99), median(f.p50), median(f.p99)];
  console.log(
    `/${name.padEnd(8)} skeind p50 ${s50.toFixed(3)} p99 ${s99.toFixed(3)} | floor p50 ${f50.toFixed(3)} p99 ${f99.toFixed(3)} | ratio p50 ${(s50 / f50).toFixed(2)}x p99 ${(s99 / f99).toFixed(2)}x`,
  );
}
floor.close();
await cp.stop();
rmSync(dir, { recursive: true, force: true });
