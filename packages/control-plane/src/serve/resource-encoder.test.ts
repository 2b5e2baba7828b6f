import { decodeToJson, encodeJson, TypeUrl } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { ResourceEncoder } from './resource-encoder.js';

const vhost = (host: string, cluster: string) => ({
  name: `${host}:80`,
  domains: [host, `${host}:80`],
  routes: [{ match: { prefix: '/' }, route: { cluster, timeout: '0s' } }],
});
const routes = (clusterOfA: string) => ({
  name: '80',
  validateClusters: false,
  virtualHosts: [vhost('a', clusterOfA), vhost('b', 'outbound|80||b'), vhost('c', 'outbound|80||c')],
});

describe('ResourceEncoder', () => {
  it('encodes a route configuration host by host into the same message', () => {
    const enc = new ResourceEncoder();
    const first = enc.encode(TypeUrl.RouteConfiguration, { name: '80', body: routes('outbound|80||a') });
    const whole = decodeToJson(
      TypeUrl.RouteConfiguration,
      encodeJson(TypeUrl.RouteConfiguration, routes('outbound|80||a')),
    );
    expect(decodeToJson(TypeUrl.RouteConfiguration, first.any.value)).toEqual(whole);
    // One host changes: the result is still exactly the new message, with a new version.
    enc.rotate();
    const next = enc.encode(TypeUrl.RouteConfiguration, { name: '80', body: routes('outbound|80|v2|a') });
    expect(next.version).not.toBe(first.version);
    expect(decodeToJson(TypeUrl.RouteConfiguration, next.any.value)).toEqual(
      decodeToJson(
        TypeUrl.RouteConfiguration,
        encodeJson(TypeUrl.RouteConfiguration, routes('outbound|80|v2|a')),
      ),
    );
  });

  it('shares one Any between equal resources and versions them by content', () => {
    const enc = new ResourceEncoder();
    const a = enc.encode(TypeUrl.Cluster, { name: 'c', body: { name: 'c', type: 'EDS' } });
    const b = enc.encode(TypeUrl.Cluster, { name: 'c', body: { name: 'c', type: 'EDS' } });
    const c = enc.encode(TypeUrl.Cluster, { name: 'c', body: { name: 'c', type: 'STATIC' } });
    expect(b.any).toBe(a.any);
    expect(b.version).toBe(a.version);
    expect(c.version).not.toBe(a.version);
  });

  it('hands out the same encoded resource for the same body and name, across pushes', () => {
    const enc = new ResourceEncoder();
    const body = { name: 'c', type: 'EDS' };
    const a = enc.encode(TypeUrl.Cluster, { name: 'c', body });
    enc.rotate();
    expect(enc.encode(TypeUrl.Cluster, { name: 'c', body })).toBe(a);
    const renamed = enc.encode(TypeUrl.Cluster, { name: 'other', body });
    expect(renamed).not.toBe(a);
    expect(renamed.name).toBe('other');
    expect(renamed.any).toBe(a.any);
  });
});
