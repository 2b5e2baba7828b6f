// The agent's certificate pipeline end to end on loopback: a real skein-ca over TLS gRPC, the
// workload certificate rotating with a short TTL (renewing with its own mesh certificate), and a
// real gRPC SDS client on the Unix socket receiving `default` and `ROOTCA` and every rotation.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TypeUrl, discoveryV3, messageFromJson, messageToJson, sdsServiceDefinition } from '@skein/api-types';
import {
  BootstrapTokenAuthenticator,
  CertificateAuthority,
  MeshCertificateAuthenticator,
  createRootCa,
  startCa,
  type RunningCa,
} from '@skein/ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caSigner } from '../src/sds/ca-signer.js';
import { startSdsServer, type RunningSds } from '../src/sds/sds-server.js';
import { WorkloadCertificate } from '../src/sds/workload-certificate.js';

const ID = 'spiffe://cluster.local/ns/demo/sa/client';
const SdsClient = grpc.makeGenericClientConstructor(sdsServiceDefinition, 'SecretDiscoveryService');

describe('SDS with rotation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-sds-'));
  const socketPath = join(dir, 'sds.sock');
  let ca: RunningCa;
  let cert: WorkloadCertificate;
  let sds: RunningSds;
  const methods: string[] = [];

  beforeAll(async () => {
    const core = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }), {
      clockSkewSeconds: 0,
    });
    ca = await startCa({
      ca: core,
      host: '127.0.0.1',
      port: 0,
      authenticators: [
        BootstrapTokenAuthenticator.parse('first-only demo client\n', 'cluster.local'),
        new MeshCertificateAuthenticator(core.material.caCertPem, 'cluster.local'),
      ],
      log: (e) => methods.push(e.method ?? '?'),
    });
    let token: string | undefined = 'first-only';
    // After the first certificate the token is withdrawn: renewals must use the mesh certificate.
    cert = new WorkloadCertificate({
      signer: {
        sign: async (csr, ttl) => {
          const signer = caSigner({
            address: `127.0.0.1:${ca.port}`,
            rootCertPem: ca.rootCertPem,
            ...(token ? { token } : {}),
            certificate: () => cert,
          });
          const chain = await signer.sign(csr, ttl);
          token = undefined;
          return chain;
        },
      },
      identity: ID,
      ttlSeconds: 2,
    });
    await cert.start();
    sds = await startSdsServer({ socketPath, certificate: cert });
  });

  afterAll(async () => {
    cert.stop();
    await sds.close();
    await ca.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves default and ROOTCA and pushes each rotation on the open stream', async () => {
    const client = new SdsClient(`unix:${socketPath}`, grpc.credentials.createInsecure());
    const stream = client.makeBidiStreamRequest(
      '/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets',
      (m: discoveryV3.DiscoveryRequest) => sdsServiceDefinition['streamSecrets']!.requestSerialize(m),
      (b: Buffer) =>
        sdsServiceDefinition['streamSecrets']!.responseDeserialize(b) as discoveryV3.DiscoveryResponse,
    );
    stream.on('error', (e: grpc.ServiceError) => {
      if (e.code !== grpc.status.CANCELLED) throw e;
    });
    const responses: Record<string, unknown>[] = [];
    const waiters: (() => void)[] = [];
    stream.on('data', (r: discoveryV3.DiscoveryResponse) => {
      responses.push(messageToJson(discoveryV3.DiscoveryResponseSchema, r) as Record<string, unknown>);
      stream.write(
        messageFromJson(discoveryV3.DiscoveryRequestSchema, {
          typeUrl: TypeUrl.Secret,
          resourceNames: ['default', 'ROOTCA'],
          versionInfo: r.versionInfo,
          responseNonce: r.nonce,
        }),
      );
      waiters.splice(0).forEach((w) => w());
    });
    const next = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (responses.length >= n ? resolve() : waiters.push(check));
        check();
      });
    stream.write(
      messageFromJson(discoveryV3.DiscoveryRequestSchema, {
        node: { id: 'sidecar~127.0.0.1~client.demo~demo.svc.cluster.local' },
        typeUrl: TypeUrl.Secret,
        resourceNames: ['default', 'ROOTCA'],
      }),
    );
    await next(2);
    stream.cancel();
    client.close();

    type SecretJson = {
      name: string;
      tlsCertificate?: { certificateChain: { inlineBytes: string } };
      validationContext?: { trustedCa: { inlineBytes: string } };
    };
    const [first, second] = responses as unknown as { versionInfo: string; resources: SecretJson[] }[];
    expect(first!.resources.map((r) => r.name)).toEqual(['default', 'ROOTCA']);
    const chainOf = (r: { resources: SecretJson[] }) =>
      Buffer.from(r.resources[0]!.tlsCertificate!.certificateChain.inlineBytes, 'base64').toString();
    const leaf1 = new X509Certificate(chainOf(first!));
    const leaf2 = new X509Certificate(chainOf(second!));
    const root = new X509Certificate(
      Buffer.from(first!.resources[1]!.validationContext!.trustedCa.inlineBytes, 'base64').toString(),
    );
    expect(leaf1.subjectAltName).toBe(`URI:${ID}`);
    expect(leaf1.verify(root.publicKey)).toBe(true);
    expect(leaf2.verify(root.publicKey)).toBe(true);
    expect(leaf2.serialNumber).not.toBe(leaf1.serialNumber);
    expect(Number(second!.versionInfo)).toBeGreaterThan(Number(first!.versionInfo));
    // First certificate by token, rotation by the mesh certificate (the token was withdrawn).
    expect(methods.slice(0, 2)).toEqual(['bootstrap-token', 'mesh-certificate']);
  });
});
