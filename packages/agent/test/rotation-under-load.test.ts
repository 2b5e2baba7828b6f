// Rotation under load: a TLS server fed over SDS (real gRPC SDS client on the agent's socket)
// swaps its certificate on every push while clients keep sending requests over pooled and fresh
// connections; no request may fail, and established connections survive the swap.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TypeUrl, discoveryV3, messageFromJson, messageToJson, sdsServiceDefinition } from '@skein/api-types';
import {
  BootstrapTokenAuthenticator,
  CertificateAuthority,
  createCsr,
  createRootCa,
  generateKeyPair,
  meshDownstreamTlsContext,
  privateKeyToPem,
  startCa,
  tlsServerOptions,
  type RunningCa,
  type SecretJson,
} from '@skein/ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caSigner } from '../src/sds/ca-signer.js';
import { startSdsServer, type RunningSds } from '../src/sds/sds-server.js';
import { WorkloadCertificate } from '../src/sds/workload-certificate.js';

const TTL_SECONDS = 4; // rotation every ~2 s (grace ratio 0.5); the 30 s TTL behaves the same, slower
const ROTATIONS = 3;
const Sds = grpc.makeGenericClientConstructor(sdsServiceDefinition, 'SDS');

describe('certificate rotation under load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-rot-'));
  let ca: RunningCa;
  let cert: WorkloadCertificate;
  let sds: RunningSds;
  let core: CertificateAuthority;

  beforeAll(async () => {
    core = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }), {
      clockSkewSeconds: 0,
    });
    ca = await startCa({
      ca: core,
      host: '127.0.0.1',
      port: 0,
      authenticators: [BootstrapTokenAuthenticator.parse('t shop db\n', 'cluster.local')],
    });
    cert = new WorkloadCertificate({
      signer: caSigner({ address: `127.0.0.1:${ca.port}`, rootCertPem: ca.rootCertPem, token: 't' }),
      ttlSeconds: TTL_SECONDS,
    });
    await cert.start();
    sds = await startSdsServer({ socketPath: join(dir, 'sds.sock'), certificate: cert });
  });
  afterAll(async () => {
    cert.stop();
    await sds.close();
    await ca.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every request across rotations', async () => {
    // The "proxy": secrets from SDS, a TLS server whose context follows them.
    const secrets: Record<string, SecretJson> = {};
    const ctx = meshDownstreamTlsContext();
    let server: https.Server | undefined;
    const serials: string[] = [];
    let rotated!: () => void;
    const done = new Promise<void>((r) => (rotated = r));
    const client = new Sds(`unix:${join(dir, 'sds.sock')}`, grpc.credentials.createInsecure());
    const stream = client.makeBidiStreamRequest(
      '/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets',
      (m: discoveryV3.DiscoveryRequest) => sdsServiceDefinition['streamSecrets']!.requestSerialize(m),
      (b: Buffer) =>
        sdsServiceDefinition['streamSecrets']!.responseDeserialize(b) as discoveryV3.DiscoveryResponse,
    );
    stream.on('error', () => undefined);
    const ready = new Promise<void>((resolveReady) => {
      stream.on('data', (r: discoveryV3.DiscoveryResponse) => {
        const json = messageToJson(discoveryV3.DiscoveryResponseSchema, r) as unknown as {
          resources: SecretJson[];
        };
        for (const s of json.resources) secrets[s.name!] = s;
        const opts = tlsServerOptions(ctx, (n) => secrets[n]);
        serials.push(new X509Certificate(String(opts.cert)).serialNumber);
        if (!server) {
          server = https.createServer({ ...opts, ALPNProtocols: ['http/1.1'] }, (_req, res) => res.end('ok'));
          server.listen(0, '127.0.0.1', () => resolveReady());
        } else {
          server.setSecureContext(opts);
        }
        if (serials.length > ROTATIONS) rotated();
        stream.write(
          messageFromJson(discoveryV3.DiscoveryRequestSchema, {
            typeUrl: TypeUrl.Secret,
            resourceNames: ['default', 'ROOTCA'],
            versionInfo: r.versionInfo,
            responseNonce: r.nonce,
          }),
        );
      });
    });
    stream.write(
      messageFromJson(discoveryV3.DiscoveryRequestSchema, {
        node: { id: 'sidecar~127.0.0.1~db.shop~shop.svc.cluster.local' },
        typeUrl: TypeUrl.Secret,
        resourceNames: ['default', 'ROOTCA'],
      }),
    );
    await ready;
    const port = (server!.address() as { port: number }).port;

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
    stream.cancel();
    client.close();
    await new Promise((r) => server!.close(r));

    expect(failures).toEqual([]);
    expect(new Set(serials).size).toBeGreaterThan(ROTATIONS);
    expect(ok).toBeGreaterThan(100);
  }, 60_000);
});
