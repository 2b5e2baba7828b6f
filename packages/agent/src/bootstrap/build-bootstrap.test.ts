// Golden and behavioural tests of the bootstrap generator.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bootstrapV3, messageFromJson, messageToJson } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { buildBootstrap, type BootstrapOptions } from './build-bootstrap.js';

const cases: Record<string, BootstrapOptions> = {
  'sidecar-tcp': {
    podName: 'reviews-v1-6d8f7c9b4-x2x7k',
    namespace: 'bookinfo',
    podIp: '10.244.0.12',
    labels: { app: 'reviews', version: 'v1', 'pod-template-hash': '6d8f7c9b4' },
    serviceAccount: 'bookinfo-reviews',
    workloadName: 'reviews-v1',
    podPorts: [{ name: 'http', containerPort: 9080, protocol: 'TCP' }],
    appContainers: ['reviews'],
    istioVersion: '0.1.0',
    discovery: {
      host: 'skeind.skein-system.svc',
      port: 15012,
      tls: { serverName: 'skeind.skein-system.svc' },
    },
  },
  'gateway-uds-loopback': {
    proxyType: 'router',
    podName: 'ingress-0',
    namespace: 'skein-system',
    podIp: '127.0.0.5',
    istioVersion: '0.1.0',
    discovery: { unixSocket: '/tmp/skein/xds.sock' },
    sdsSocket: '/tmp/skein/sds.sock',
    admin: { address: '127.0.0.5', port: 25000 },
    listenAddress: '127.0.0.5',
    statsPort: 25090,
    readinessPort: 25021,
    readinessSource: 'admin',
  },
};

const here = fileURLToPath(new URL('.', import.meta.url));

describe('buildBootstrap', () => {
  for (const [name, options] of Object.entries(cases)) {
    it(`matches the golden file ${name}`, () => {
      const out = `${JSON.stringify(buildBootstrap(options), null, 2)}\n`;
      const file = `${here}testdata/${name}.golden.json`;
      if (process.env['UPDATE_GOLDEN']) writeFileSync(file, out);
      expect(out).toBe(readFileSync(file, 'utf8'));
    });

    it(`is a valid canonical Bootstrap (${name})`, () => {
      const json = buildBootstrap(options);
      const msg = messageFromJson(bootstrapV3.BootstrapSchema, json);
      expect(messageToJson(bootstrapV3.BootstrapSchema, msg)).toEqual(json);
    });
  }

  it('writes Istio node id and metadata', () => {
    const b = buildBootstrap(cases['sidecar-tcp']!);
    expect(b.node?.id).toBe(
      'sidecar~10.244.0.12~reviews-v1-6d8f7c9b4-x2x7k.bookinfo~bookinfo.svc.cluster.local',
    );
    expect(b.node?.cluster).toBe('reviews.bookinfo');
    const md = b.node?.metadata as Record<string, unknown>;
    expect(md['NAMESPACE']).toBe('bookinfo');
    expect(md['SERVICE_ACCOUNT']).toBe('bookinfo-reviews');
    expect(md['CLUSTER_ID']).toBe('Kubernetes');
    expect(md['INSTANCE_IPS']).toBe('10.244.0.12');
    expect(md['INTERCEPTION_MODE']).toBe('REDIRECT');
    expect(md['POD_PORTS']).toBe('[{"name":"http","containerPort":9080,"protocol":"TCP"}]');
    expect(md['LABELS']).toEqual({ app: 'reviews', 'pod-template-hash': '6d8f7c9b4', version: 'v1' });
    expect(md['APP']).toBe('reviews');
    expect(md['VERSION']).toBe('v1');
  });

  it('uses router~ for gateways and puts every port where asked', () => {
    const b = buildBootstrap(cases['gateway-uds-loopback']!);
    expect(b.node?.id).toBe('router~127.0.0.5~ingress-0.skein-system~skein-system.svc.cluster.local');
    const ports = b.staticResources?.listeners?.map((l) => l.address?.socketAddress?.portValue);
    expect(ports).toEqual([25090, 25021]);
    expect(b.admin?.address?.socketAddress).toEqual({ address: '127.0.0.5', portValue: 25000 });
  });

  it('gives sidecars delta ADS with VHDS by default, never over state of the world', () => {
    const base = cases['sidecar-tcp']!;
    const meta = (b: ReturnType<typeof buildBootstrap>) => b.node?.metadata as Record<string, unknown>;
    const byDefault = buildBootstrap(base);
    expect(byDefault.dynamicResources?.adsConfig?.apiType).toBe('DELTA_GRPC');
    expect(meta(byDefault)['SKEIN_VHDS']).toBe('true');
    const sotw = buildBootstrap({ ...base, vhds: true, adsApiType: 'GRPC' });
    expect(sotw.dynamicResources?.adsConfig?.apiType).toBe('GRPC');
    expect(meta(sotw)['SKEIN_VHDS']).toBeUndefined();
    const off = buildBootstrap({ ...base, vhds: false });
    expect(off.dynamicResources?.adsConfig?.apiType).toBe('GRPC');
    expect(meta(off)['SKEIN_VHDS']).toBeUndefined();
    const deltaOnly = buildBootstrap({ ...base, vhds: false, adsApiType: 'DELTA_GRPC' });
    expect(deltaOnly.dynamicResources?.adsConfig?.apiType).toBe('DELTA_GRPC');
    expect(meta(deltaOnly)['SKEIN_VHDS']).toBeUndefined();
  });

  it('keeps routers (gateways) on state-of-the-world ADS unless VHDS is asked for', () => {
    const gw = cases['gateway-uds-loopback']!;
    const meta = (b: ReturnType<typeof buildBootstrap>) => b.node?.metadata as Record<string, unknown>;
    expect(buildBootstrap(gw).dynamicResources?.adsConfig?.apiType).toBe('GRPC');
    expect(meta(buildBootstrap(gw))['SKEIN_VHDS']).toBeUndefined();
    expect(meta(buildBootstrap({ ...gw, vhds: true }))['SKEIN_VHDS']).toBe('true');
  });

  it('omits listeners set to null', () => {
    const b = buildBootstrap({ ...cases['gateway-uds-loopback']!, statsPort: null, readinessPort: null });
    expect(b.staticResources?.listeners).toEqual([]);
  });
});
