// The local xDS relay: a plaintext ADS client on the agent's Unix socket reaches a stand-in xDS
// server over TLS (serving certificate from our CA), authenticated by the workload certificate;
// requests and responses pass through unchanged, in both directions, and errors propagate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TypeUrl, adsServiceDefinition, discoveryV3, messageFromJson } from '@skein/api-types';
import {
  CertificateAuthority,
  createCsr,
  createRootCa,
  generateKeyPair,
  issueServingCertificate,
  peerPrincipal,
  privateKeyToPem,
  servingCredentials,
} from '@skein/ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshChannelCredentials, startXdsRelay, type RunningXdsRelay } from '../src/xds/xds-relay.js';

const ID = 'spiffe://cluster.local/ns/shop/sa/web';
const Ads = grpc.makeGenericClientConstructor(adsServiceDefinition, 'ADS');
type Req = discoveryV3.DiscoveryRequest;
type Res = discoveryV3.DiscoveryResponse;

describe('xDS relay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-relay-'));
  const socketPath = join(dir, 'XDS');
  let upstream: grpc.Server;
  let relay: RunningXdsRelay;
  const seen: { principal?: string | undefined; node?: string; metadata?: string }[] = [];

  beforeAll(async () => {
    const ca = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }));
    // Stand-in skeind on TLS: answers each request with a Listener named after the node id.
    upstream = new grpc.Server();
    upstream.addService(adsServiceDefinition, {
      streamAggregatedResources: (call: grpc.ServerDuplexStream<Req, Res>) => {
        call.on('data', (req: Req) => {
          if (req.typeUrl === 'refuse') {
            call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: 'not allowed' });
            return;
          }
          if (req.responseNonce) return;
          seen.push({
            principal: peerPrincipal(call.getAuthContext().sslPeerCertificate),
            node: req.node?.id ?? '',
            metadata: String(call.metadata.get('x-skein-test')[0] ?? ''),
          });
          call.write(
            messageFromJson(discoveryV3.DiscoveryResponseSchema, {
              versionInfo: '1',
              nonce: 'a',
              typeUrl: TypeUrl.Listener,
              resources: [{ '@type': TypeUrl.Listener, name: req.node?.id ?? '?' }],
            }),
          );
        });
        call.on('end', () => call.end());
      },
    } as grpc.UntypedServiceImplementation);
    const serving = await issueServingCertificate(ca, {
      dnsNames: ['skeind.skein-system.svc'],
      ipAddresses: ['127.0.0.1'],
    });
    const port = await new Promise<number>((res, rej) =>
      upstream.bindAsync('127.0.0.1:0', servingCredentials(serving, ca.rootCertPem), (e, p) =>
        e ? rej(e) : res(p),
      ),
    );
    const keys = await generateKeyPair();
    const chain = (await ca.signWorkloadCsr(await createCsr(keys, { uris: [ID] }), ID)).certChain;
    const workload = {
      keyPem: await privateKeyToPem(keys.privateKey),
      certChainPem: chain.slice(0, -1).join(''),
    };
    relay = await startXdsRelay({
      socketPath,
      upstream: `127.0.0.1:${port}`,
      credentials: meshChannelCredentials(ca.rootCertPem, () => workload),
    });
  });

  afterAll(async () => {
    await relay.close();
    upstream.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  function open(md: Record<string, string> = {}) {
    const client = new Ads(`unix:${socketPath}`, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(md)) metadata.set(k, v);
    const call = client.makeBidiStreamRequest(
      '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
      (m: Req) => adsServiceDefinition['streamAggregatedResources']!.requestSerialize(m),
      (b: Buffer) => adsServiceDefinition['streamAggregatedResources']!.responseDeserialize(b) as Res,
      metadata,
    );
    return { client, call };
  }

  it('carries the stream to skeind over mTLS with the workload identity', async () => {
    const { client, call } = open({ 'x-skein-test': 'kept' });
    const first = new Promise<Res>((resolve) => call.once('data', resolve));
    call.write(
      messageFromJson(discoveryV3.DiscoveryRequestSchema, {
        node: { id: 'sidecar~10.0.0.1~web.shop~shop.svc.cluster.local' },
        typeUrl: TypeUrl.Listener,
      }),
    );
    const res = await first;
    expect(res.typeUrl).toBe(TypeUrl.Listener);
    expect(res.resources).toHaveLength(1);
    expect(seen).toEqual([
      { principal: ID, node: 'sidecar~10.0.0.1~web.shop~shop.svc.cluster.local', metadata: 'kept' },
    ]);
    call.on('error', () => undefined);
    call.cancel();
    client.close();
  });

  it('propagates upstream errors to the proxy', async () => {
    const { client, call } = open();
    const failed = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    call.write(messageFromJson(discoveryV3.DiscoveryRequestSchema, { typeUrl: 'refuse' }));
    const e = await failed;
    expect(e.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(e.details).toBe('skeind: not allowed');
    client.close();
  });
});
