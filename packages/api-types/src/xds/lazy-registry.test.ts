import { describe, expect, it } from 'vitest';
import { lazyDescriptorsBuilt } from './lazy-desc.js';
import { TypeUrl } from './type-urls.js';

// Module state matters here: the first test observes what importing the package costs.
describe('lazy descriptors', () => {
  it('importing the package decodes no descriptor', async () => {
    const api = await import('../index.js');
    expect(api.clusterV3.ClusterSchema).toBeDefined();
    expect(api.adsServiceDefinition).toBeDefined();
    expect(lazyDescriptorsBuilt()).toBe(0);
  });

  it('builds only the files a lookup needs, once', async () => {
    const api = await import('../index.js');
    const json = api.decodeToJson(
      TypeUrl.Cluster,
      api.encodeJson(TypeUrl.Cluster, { name: 'c', connectTimeout: '1s' }),
    );
    expect(json).toEqual({ name: 'c', connectTimeout: '1s' });
    const afterCluster = lazyDescriptorsBuilt();
    expect(afterCluster).toBeGreaterThan(0);
    api.encodeJson(TypeUrl.Cluster, { name: 'd' });
    expect(lazyDescriptorsBuilt()).toBe(afterCluster);
    // The JWT filter's file is not among a Cluster's dependencies.
    expect(
      api.xdsRegistry.getMessage('envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication'),
    ).toBeDefined();
    expect(lazyDescriptorsBuilt()).toBeGreaterThan(afterCluster);
  });

  it('the registry answers every kind of lookup and lists every type when iterated', async () => {
    const { xdsRegistry } = await import('../index.js');
    expect(xdsRegistry.getMessage('google.protobuf.Duration')?.typeName).toBe('google.protobuf.Duration');
    expect(xdsRegistry.getEnum('envoy.config.cluster.v3.Cluster.DiscoveryType')?.kind).toBe('enum');
    expect(xdsRegistry.getService('envoy.service.discovery.v3.AggregatedDiscoveryService')?.kind).toBe(
      'service',
    );
    expect(xdsRegistry.getMessage('envoy.config.cluster.v3.Cluster.DiscoveryType')).toBeUndefined();
    expect(xdsRegistry.getMessage('no.such.Type')).toBeUndefined();
    expect(xdsRegistry.getExtension('validate.rules')?.kind).toBe('extension');
    const names = new Set([...xdsRegistry].map((d) => d.typeName));
    expect(names.has('envoy.config.listener.v3.Listener')).toBe(true);
    expect(names.has('istio.v1.auth.IstioCertificateRequest')).toBe(true);
  });

  it('a lazy schema behaves as the descriptor it stands for', async () => {
    const { clusterV3, messageFromJson, messageToJson } = await import('../index.js');
    const c = messageFromJson(clusterV3.ClusterSchema, { name: 'x', type: 'EDS' });
    expect(c.$typeName).toBe('envoy.config.cluster.v3.Cluster');
    expect(messageToJson(clusterV3.ClusterSchema, c)).toEqual({ name: 'x', type: 'EDS' });
    expect(clusterV3.ClusterSchema.kind).toBe('message');
    expect('fields' in clusterV3.ClusterSchema).toBe(true);
    expect(Object.keys(clusterV3.ClusterSchema)).toContain('typeName');
  });
});

describe('releaseDescriptors', () => {
  it('drops every built descriptor; the next use rebuilds them and decodes the same', async () => {
    const api = await import('../index.js');
    const cluster = { name: 'c', connectTimeout: '1s', type: 'EDS' };
    const bytes = api.encodeJson(TypeUrl.Cluster, cluster);
    const before = lazyDescriptorsBuilt();
    expect(api.releaseDescriptors()).toBeGreaterThan(0);
    expect(api.releaseDescriptors()).toBe(0);
    expect(api.decodeToJson(TypeUrl.Cluster, bytes)).toEqual(cluster);
    expect(lazyDescriptorsBuilt()).toBeGreaterThan(before);
    expect(api.clusterV3.ClusterSchema.typeName).toBe('envoy.config.cluster.v3.Cluster');
  });
});
