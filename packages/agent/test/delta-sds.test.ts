// Delta SDS on the agent's socket with a real gRPC client: the proxy subscribes to `default` and
// `ROOTCA`, gets both once; a rotation sends `default` alone (the root did not change);
// unsubscribed names are no longer sent; a reconnecting client declaring the versions it holds
// is sent nothing until the next rotation; unknown names are never answered.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TypeUrl, discoveryV3, messageFromJson, messageToJson, sdsServiceDefinition } from '@skein/api-types';
import { CertificateAuthority, createRootCa } from '@skein/ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdsServer, type RunningSds } from '../src/sds/sds-server.js';
import { WorkloadCertificate } from '../src/sds/workload-certificate.js';

const SdsClient = grpc.makeGenericClientConstructor(sdsServiceDefinition, 'SecretDiscoveryService');
const ID = 'spiffe://cluster.local/ns/demo/sa/client';

interface Resource {
  name: string;
  version: string;
  resource: { tlsCertificate?: unknown; validationContext?: unknown };
}

/** A DeltaSecrets stream: send requests, await responses (as JSON), ACK each. */
function openDelta(socketPath: string) {
  const client = new SdsClient(`unix:${socketPath}`, grpc.credentials.createInsecure());
  const m = sdsServiceDefinition['deltaSecrets']!;
  const stream = client.makeBidiStreamRequest(
    m.path,
    (r: discoveryV3.DeltaDiscoveryRequest) => m.requestSerialize(r),
    (b: Buffer) => m.responseDeserialize(b) as discoveryV3.DeltaDiscoveryResponse,
  );
  stream.on('error', () => undefined);
  const responses: { resources: Resource[]; nonce: string }[] = [];
  const waiters: (() => void)[] = [];
  stream.on('data', (r: discoveryV3.DeltaDiscoveryResponse) => {
    const json = messageToJson(discoveryV3.DeltaDiscoveryResponseSchema, r) as unknown as {
      resources?: Resource[];
      nonce: string;
    };
    responses.push({ resources: json.resources ?? [], nonce: json.nonce });
    send({ responseNonce: json.nonce });
    waiters.splice(0).forEach((w) => w());
  });
  const send = (req: Record<string, unknown>): void =>
    void stream.write(
      messageFromJson(discoveryV3.DeltaDiscoveryRequestSchema, { typeUrl: TypeUrl.Secret, ...req }),
    );
  /** The n-th response (1-based), once it has arrived. */
  const response = (n: number) =>
    new Promise<{ resources: Resource[] }>((resolve) => {
      const check = () => (responses.length >= n ? resolve(responses[n - 1]!) : waiters.push(check));
      check();
    });
  return {
    send,
    response,
    responses,
    close: () => {
      stream.cancel();
      client.close();
    },
  };
}

describe('delta SDS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-delta-sds-'));
  const socketPath = join(dir, 'sds.sock');
  let cert: WorkloadCertificate;
  let sds: RunningSds;

  beforeAll(async () => {
    const ca = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }));
    // The CA core signs directly (the gRPC CA path is sds.test.ts's); rotations are explicit refresh() calls.
    cert = new WorkloadCertificate({
      signer: { sign: async (csr, ttl) => (await ca.signWorkloadCsr(csr, ID, ttl)).certChain },
      identity: ID,
      ttlSeconds: 3600,
    });
    await cert.start();
    sds = await startSdsServer({ socketPath, certificate: cert });
  });

  afterAll(async () => {
    cert.stop();
    await sds.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends each subscribed secret once, then only what a rotation changed', async () => {
    const c = openDelta(socketPath);
    try {
      c.send({
        node: { id: 'sidecar~127.0.0.1~client.demo~demo.svc.cluster.local' },
        resourceNamesSubscribe: ['default', 'ROOTCA', 'file-cert:/nope'],
      });
      const first = await c.response(1);
      expect(first.resources.map((r) => r.name)).toEqual(['ROOTCA', 'default']);
      const rootVersion = first.resources.find((r) => r.name === 'ROOTCA')!.version;
      const firstDefault = first.resources.find((r) => r.name === 'default')!;
      expect(firstDefault.resource.tlsCertificate).toBeDefined();

      await cert.refresh();
      const second = await c.response(2);
      expect(second.resources.map((r) => r.name)).toEqual(['default']);
      expect(second.resources[0]!.version).not.toBe(firstDefault.version);

      // Unsubscribe the root, subscribe it again: sent again (the proxy may have dropped it).
      c.send({ resourceNamesUnsubscribe: ['ROOTCA'] });
      c.send({ resourceNamesSubscribe: ['ROOTCA'] });
      const third = await c.response(3);
      expect(third.resources.map((r) => [r.name, r.version])).toEqual([['ROOTCA', rootVersion]]);

      // Unsubscribe `default` (the ROOTCA answer shows the server has read the request), rotate,
      // subscribe again: the first `default` after that is the answer to the subscription, and
      // the next response is the ROOTCA barrier, not a second `default` (no push was due).
      c.send({ resourceNamesUnsubscribe: ['default', 'ROOTCA'] });
      c.send({ resourceNamesSubscribe: ['ROOTCA'] });
      expect((await c.response(4)).resources.map((r) => r.name)).toEqual(['ROOTCA']);
      await cert.refresh();
      c.send({ resourceNamesSubscribe: ['default'] });
      const fifth = await c.response(5);
      expect(fifth.resources.map((r) => r.name)).toEqual(['default']);
      c.send({ resourceNamesUnsubscribe: ['ROOTCA'] });
      c.send({ resourceNamesSubscribe: ['ROOTCA'] });
      expect((await c.response(6)).resources.map((r) => r.name)).toEqual(['ROOTCA']);
      expect(sds.streams()).toBe(1);
    } finally {
      c.close();
    }
  });

  it('a reconnecting client declaring what it holds is sent only newer secrets', async () => {
    const a = openDelta(socketPath);
    a.send({
      node: { id: 'sidecar~127.0.0.1~client.demo~demo.svc.cluster.local' },
      resourceNamesSubscribe: ['default', 'ROOTCA'],
    });
    const held = Object.fromEntries((await a.response(1)).resources.map((r) => [r.name, r.version]));
    a.close();

    const b = openDelta(socketPath);
    try {
      b.send({
        node: { id: 'sidecar~127.0.0.1~client.demo~demo.svc.cluster.local' },
        resourceNamesSubscribe: ['default', 'ROOTCA'],
        initialResourceVersions: held,
      });
      // Nothing is due until the next rotation, so the first response is the rotation's.
      await cert.refresh();
      const first = await b.response(1);
      expect(first.resources.map((r) => r.name)).toEqual(['default']);
      expect(first.resources[0]!.version).not.toBe(held['default']);
    } finally {
      b.close();
    }
  });
});
