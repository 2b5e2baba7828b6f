// The DNS proxy on loopback: the name table arrives over ADS (NameTable type) from a stand-in
// xDS server, mesh names are answered locally (A and AAAA, short names in the pod's namespace),
// everything else is forwarded to a stand-in upstream resolver; queried with Node's own resolver
// (c-ares) and with raw packets over UDP and TCP.
import * as dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import dnsPacket from 'dns-packet';
import { TypeUrl, adsServiceDefinition, discoveryV3, messageFromJson } from '@skein/api-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsProxy, type RunningDnsProxy } from '../src/dns/dns-proxy.js';
import { indexNameTable, type NameTableIndex, type NameTableJson } from '../src/dns/name-table.js';
import { subscribeNameTable } from '../src/dns/nds-client.js';

const TABLE: NameTableJson = {
  table: {
    'reviews.demo.svc.cluster.local': {
      ips: ['10.96.0.20', 'fd00::20'],
      registry: 'Kubernetes',
      shortname: 'reviews',
      namespace: 'demo',
    },
    'ratings.other.svc.cluster.local': {
      ips: ['10.96.0.30'],
      registry: 'Kubernetes',
      shortname: 'ratings',
      namespace: 'other',
    },
    'api.partner.example': { ips: ['203.0.113.7'] },
  },
};

describe('DNS proxy', () => {
  let ads: grpc.Server;
  let upstream: dgram.Socket;
  let proxy: RunningDnsProxy;
  let table: NameTableIndex | undefined;
  let nds: { close(): void };
  const acks: string[] = [];

  beforeAll(async () => {
    // Stand-in xDS server: pushes one NameTable and records the ACK.
    ads = new grpc.Server();
    ads.addService(adsServiceDefinition, {
      streamAggregatedResources: (
        call: grpc.ServerDuplexStream<discoveryV3.DiscoveryRequest, discoveryV3.DiscoveryResponse>,
      ) => {
        call.on('data', (req: discoveryV3.DiscoveryRequest) => {
          if (req.responseNonce) return void acks.push(`${req.typeUrl} ${req.versionInfo}`);
          call.write(
            messageFromJson(discoveryV3.DiscoveryResponseSchema, {
              versionInfo: 'v1',
              nonce: 'n1',
              typeUrl: TypeUrl.NameTable,
              resources: [{ '@type': TypeUrl.NameTable, ...TABLE }],
            }),
          );
        });
        call.on('end', () => call.end());
      },
    } as grpc.UntypedServiceImplementation);
    const adsPort = await new Promise<number>((res, rej) =>
      ads.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
    );
    // Stand-in upstream resolver: knows example.org only.
    upstream = dgram.createSocket('udp4');
    upstream.on('message', (m, r) => {
      const q = dnsPacket.decode(m);
      const name = q.questions?.[0]?.name ?? '';
      const answers =
        name === 'example.org' ? [{ type: 'A', name, ttl: 60, data: '192.0.2.1' } as dnsPacket.Answer] : [];
      upstream.send(
        dnsPacket.encode({
          id: q.id ?? 0,
          type: 'response',
          flags: answers.length ? 0 : 3,
          questions: q.questions ?? [],
          answers,
        }),
        r.port,
        r.address,
      );
    });
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
    const got = new Promise<void>((resolve) => {
      nds = subscribeNameTable({
        address: `127.0.0.1:${adsPort}`,
        nodeId: 'sidecar~127.0.0.1~web.demo~demo.svc.cluster.local',
        onTable: (t) => {
          table = indexNameTable(t, 'demo');
          resolve();
        },
      });
    });
    proxy = await startDnsProxy({
      host: '127.0.0.1',
      port: 0,
      upstreams: [`127.0.0.1:${upstream.address().port}`],
      table: () => table,
    });
    await got;
  });

  afterAll(async () => {
    nds.close();
    await proxy.close();
    upstream.close();
    ads.forceShutdown();
  });

  const udpQuery = (name: string, type: 'A' | 'AAAA') =>
    new Promise<dnsPacket.Packet>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.once('message', (m) => {
        s.close();
        resolve(dnsPacket.decode(m));
      });
      s.send(
        dnsPacket.encode({
          id: 7,
          type: 'query',
          flags: dnsPacket.RECURSION_DESIRED,
          questions: [{ type, name }],
        }),
        proxy.port,
        '127.0.0.1',
      );
    });
  const ips = (p: dnsPacket.Packet) => (p.answers ?? []).map((a) => (a as { data: string }).data);

  it('answers mesh names from the pushed table, with Node’s resolver as client', async () => {
    const r = new Resolver();
    r.setServers([`127.0.0.1:${proxy.port}`]);
    expect(await r.resolve4('reviews.demo.svc.cluster.local')).toEqual(['10.96.0.20']);
    expect(await r.resolve6('reviews.demo.svc.cluster.local')).toEqual(['fd00::20']);
    expect(await r.resolve4('api.partner.example')).toEqual(['203.0.113.7']);
    expect(acks).toContain(`${TypeUrl.NameTable} v1`);
  });

  it('answers short names in the pod namespace and <svc>.<ns> forms only', async () => {
    expect(ips(await udpQuery('reviews', 'A'))).toEqual(['10.96.0.20']);
    expect(ips(await udpQuery('ratings.other', 'A'))).toEqual(['10.96.0.30']);
    const notMesh = await udpQuery('ratings', 'A');
    expect((notMesh as { rcode?: string }).rcode).toBe('NXDOMAIN'); // forwarded: not a short name in namespace demo
  });

  it('forwards other names upstream (UDP and TCP)', async () => {
    const before = proxy.stats().forwarded;
    expect(ips(await udpQuery('example.org', 'A'))).toEqual(['192.0.2.1']);
    const tcpAnswer = await new Promise<dnsPacket.Packet>((resolve) => {
      const s = net.connect(proxy.port, '127.0.0.1', () =>
        s.write(
          dnsPacket.streamEncode({ id: 9, type: 'query', questions: [{ type: 'A', name: 'reviews.demo' }] }),
        ),
      );
      s.once('data', (d: Buffer) => {
        s.destroy();
        resolve(dnsPacket.streamDecode(d));
      });
    });
    expect(ips(tcpAnswer)).toEqual(['10.96.0.20']);
    expect(proxy.stats().forwarded).toBeGreaterThan(before);
  });
});
