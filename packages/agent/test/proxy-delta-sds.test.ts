// skein-proxy on incremental SDS: a TLS context whose sds_config says DELTA_GRPC makes the real
// skein-proxy read its certificates from the agent's SDS server over DeltaSecrets (not
// StreamSecrets); mesh mTLS terminates with the workload certificate and follows a rotation.
// Needs the built proxy.
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import {
  createCsr,
  createRootCa,
  CertificateAuthority,
  generateKeyPair,
  meshDownstreamTlsContext,
  privateKeyToPem,
} from '@skein/ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, mtlsInboundBootstrap } from './support/mtls-inbound-bootstrap.js';
import { startSdsServer, type RunningSds } from '../src/sds/sds-server.js';
import { WorkloadCertificate } from '../src/sds/workload-certificate.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const built = existsSync(join(root, 'packages/proxy/dist/main.js'));
const ID = 'spiffe://cluster.local/ns/shop/sa/db';

describe.skipIf(!built)(`real skein-proxy on delta SDS${built ? '' : ' (proxy not built)'}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-deltasds-'));
  let core: CertificateAuthority;
  let cert: WorkloadCertificate;
  let sds: RunningSds;
  let proxy: ChildProcess;
  let port: number;
  let stderr = '';

  beforeAll(async () => {
    core = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }), {
      clockSkewSeconds: 0,
    });
    cert = new WorkloadCertificate({
      signer: { sign: (csr, ttl) => core.signWorkloadCsr(csr, ID, ttl).then((r) => r.certChain) },
      ttlSeconds: 3600,
    });
    await cert.start();
    const sdsSocket = join(dir, 'sds.sock');
    sds = await startSdsServer({ socketPath: sdsSocket, certificate: cert });
    port = await freePort();
    // The mesh TLS context with its SDS config sources switched to the incremental protocol.
    const tlsContext = JSON.parse(
      JSON.stringify(meshDownstreamTlsContext()).replaceAll('"apiType":"GRPC"', '"apiType":"DELTA_GRPC"'),
    ) as object;
    expect(JSON.stringify(tlsContext)).toContain('DELTA_GRPC');
    const b = await mtlsInboundBootstrap({ dir, sdsSocket, port, tlsContext });
    const file = join(dir, 'bootstrap.json');
    writeFileSync(file, JSON.stringify(b));
    proxy = spawn(join(root, 'bin/skein-proxy'), ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    proxy.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  }, 60_000);

  afterAll(async () => {
    if (proxy && proxy.exitCode === null) {
      const exited = new Promise((r) => proxy.once('exit', r));
      proxy.kill('SIGTERM');
      await exited;
    }
    cert?.stop();
    await sds?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (): Promise<{ body: string; serial: string }> => {
    const keys = await generateKeyPair();
    const id = 'spiffe://cluster.local/ns/shop/sa/web';
    const chain = (await core.signWorkloadCsr(await createCsr(keys, { uris: [id] }), id, 600)).certChain;
    const opts = { key: await privateKeyToPem(keys.privateKey), cert: chain[0]!, ca: core.rootCertPem };
    return new Promise((resolve, reject) => {
      const s = tls.connect(
        {
          host: '127.0.0.1',
          port,
          ...opts,
          ALPNProtocols: ['http/1.1'],
          checkServerIdentity: () => undefined,
        },
        () => {
          const peer = s.getPeerX509Certificate() as X509Certificate;
          s.write('GET / HTTP/1.1\r\nhost: db\r\nconnection: close\r\n\r\n');
          let data = '';
          s.on('data', (d: Buffer) => (data += d.toString()));
          s.on('end', () => resolve({ body: data.split('\r\n\r\n')[1] ?? '', serial: peer.serialNumber }));
        },
      );
      s.on('error', reject);
    });
  };
  const eventually = async (ok: (r: { body: string; serial: string }) => boolean) => {
    let last: unknown;
    // The proxy fetches its secrets and binds asynchronously after start: poll its listener.
    for (let i = 0; i < 150; i++) {
      try {
        const r = await get();
        if (ok(r)) return r;
        last = r;
      } catch (e) {
        last = e;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`not reached: ${String(last)}\n${stderr}`);
  };

  it('reads its certificate over DeltaSecrets and follows a rotation', async () => {
    const first = await eventually((r) => r.body === 'hello from db');
    expect(first.serial).toBe(new X509Certificate(cert.secret!.certChainPem).serialNumber);
    expect(stderr).toMatch(/"msg":"SDS stream".*"protocol":"delta"/);
    expect(sds.streams()).toBe(1);
    await cert.refresh();
    const rotated = new X509Certificate(cert.secret!.certChainPem).serialNumber;
    const second = await eventually((r) => r.serial === rotated);
    expect(second.body).toBe('hello from db');
  }, 60_000);
});
