// skein-proxy on incremental SDS: a TLS context whose sds_config says DELTA_GRPC makes the real
// skein-proxy read its certificates from the agent's SDS server over DeltaSecrets (not
// StreamSecrets); mesh mTLS terminates with the workload certificate and follows a rotation.
// Needs the built proxy.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCa, CertificateAuthority, meshDownstreamTlsContext } from '@skein/ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, meshCredentials, meshGet, type MeshReply } from './support/mesh-client.js';
import { mtlsInboundBootstrap } from './support/mtls-inbound-bootstrap.js';
import { freePort, repoRoot, startSkeinProxy, type ProxyProcess } from './support/processes.js';
import { startSdsServer, type RunningSds } from '../src/sds/sds-server.js';
import { WorkloadCertificate } from '../src/sds/workload-certificate.js';

const built = existsSync(join(repoRoot, 'packages/proxy/dist/main.js'));
const ID = 'spiffe://cluster.local/ns/shop/sa/db';

describe.skipIf(!built)(`real skein-proxy on delta SDS${built ? '' : ' (proxy not built)'}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-deltasds-'));
  let core: CertificateAuthority;
  let cert: WorkloadCertificate;
  let sds: RunningSds;
  let proxy: ProxyProcess;
  let port: number;

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
    proxy = startSkeinProxy(file);
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    cert?.stop();
    await sds?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (): Promise<MeshReply> =>
    meshGet(port, await meshCredentials(core, 'spiffe://cluster.local/ns/shop/sa/web'));
  const until = (ok: (r: MeshReply) => boolean) => eventually(get, ok, () => proxy.stderr());

  it('reads its certificate over DeltaSecrets and follows a rotation', async () => {
    const first = await until((r) => r.body === 'hello from db');
    expect(first.serial).toBe(new X509Certificate(cert.secret!.certChainPem).serialNumber);
    expect(proxy.stderr()).toMatch(/"msg":"SDS stream".*"protocol":"delta"/);
    expect(sds.streams()).toBe(1);
    await cert.refresh();
    const rotated = new X509Certificate(cert.secret!.certChainPem).serialNumber;
    const second = await until((r) => r.serial === rotated);
    expect(second.body).toBe('hello from db');
  }, 60_000);
});
