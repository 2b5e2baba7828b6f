// Rotation under load: a TLS server fed over SDS (@skein/ca's SDS client on the agent's socket)
// swaps its certificate on every push while clients keep sending requests over pooled and fresh
// connections; no request may fail, and established connections survive the swap.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CertificateAuthority,
  createCsr,
  generateKeyPair,
  meshDownstreamTlsContext,
  privateKeyToPem,
  subscribeSecrets,
  tlsServerOptions,
  type RunningCa,
} from '@skein/ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCa, startWorkloadSds, type WorkloadSds } from './support/test-ca.js';

const TTL_SECONDS = 4; // rotation every ~2 s (grace ratio 0.5); the 30 s TTL behaves the same, slower
const ROTATIONS = 3;

describe('certificate rotation under load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-rot-'));
  let ca: RunningCa;
  let workload: WorkloadSds;
  let core: CertificateAuthority;

  beforeAll(async () => {
    ({ core, ca } = await startTestCa('t shop db\n'));
    workload = await startWorkloadSds({
      ca,
      token: 't',
      ttlSeconds: TTL_SECONDS,
      socketPath: join(dir, 'sds.sock'),
    });
  });
  afterAll(async () => {
    await workload?.stop();
    await ca?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every request across rotations', async () => {
    // The "proxy": secrets from SDS through @skein/ca's SDS client, a TLS server following them.
    const ctx = meshDownstreamTlsContext();
    const secrets = subscribeSecrets({
      target: `unix:${join(dir, 'sds.sock')}`,
      nodeId: 'sidecar~127.0.0.1~db.shop~shop.svc.cluster.local',
      names: ['default', 'ROOTCA'],
    });
    await secrets.ready();
    const serials: string[] = [];
    const opts = () => {
      const o = tlsServerOptions(ctx, secrets.lookup);
      serials.push(new X509Certificate(String(o.cert)).serialNumber);
      return o;
    };
    const server = https.createServer({ ...opts(), ALPNProtocols: ['http/1.1'] }, (_req, res) =>
      res.end('ok'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    let rotated!: () => void;
    const done = new Promise<void>((r) => (rotated = r));
    secrets.onUpdate((name) => {
      if (name !== 'default') return;
      server.setSecureContext(opts());
      if (serials.length > ROTATIONS) rotated();
    });
    const port = (server.address() as { port: number }).port;

    // The caller: a mesh client certificate, pooled keep-alive connections plus fresh ones.
    const keys = await generateKeyPair();
    const id = 'spiffe://cluster.local/ns/shop/sa/web';
    const chain = (await core.signWorkloadCsr(await createCsr(keys, { uris: [id] }), id, 600)).certChain;
    const tlsClient = {
      key: await privateKeyToPem(keys.privateKey),
      cert: chain[0]!,
      ca: ca.rootCertPem,
      checkServerIdentity: () => undefined,
    };
    const pooled = new https.Agent({ keepAlive: true, maxSockets: 4, ...tlsClient });
    const fresh = new https.Agent({ keepAlive: false, ...tlsClient });
    let ok = 0;
    const failures: string[] = [];
    const get = (agent: https.Agent) =>
      new Promise<void>((resolve) => {
        const req = https.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) ok++;
            else failures.push(String(res.statusCode));
            resolve();
          });
        });
        req.on('error', (e) => {
          failures.push(e.message);
          resolve();
        });
      });
    let stop = false;
    void done.then(() => (stop = true));
    const worker = async (agent: https.Agent) => {
      while (!stop) await get(agent);
    };
    await Promise.all([worker(pooled), worker(pooled), worker(pooled), worker(fresh)]);
    pooled.destroy();
    fresh.destroy();
    secrets.close();
    await new Promise((r) => server.close(r));

    expect(failures).toEqual([]);
    expect(new Set(serials).size).toBeGreaterThan(ROTATIONS);
    expect(ok).toBeGreaterThan(100);
  }, 60_000);
});
