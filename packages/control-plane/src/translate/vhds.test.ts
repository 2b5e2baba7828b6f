// VHDS translation: route configurations split into a VHDS-pointing shell and one resource per
// virtual host, a route configuration name answered with its full set, `<route config>/<host>`
// answered with the one virtual host serving that host in Envoy's domain order.
import { describe, expect, it } from 'vitest';
import {
  aliasesOf,
  splitVhdsName,
  vhdsRouteConfig,
  virtualHostFor,
  virtualHostResources,
  wantsVhds,
} from './vhds.js';

const rc = {
  name: '8080',
  validateClusters: false,
  virtualHosts: [
    {
      name: 'a.ns.svc.cluster.local:8080',
      domains: ['a.ns.svc.cluster.local', 'a.ns.svc.cluster.local:8080', 'a'],
    },
    { name: 'wild:8080', domains: ['*.example.com'] },
    { name: 'longer-wild:8080', domains: ['*.api.example.com'] },
    { name: 'prefix:8080', domains: ['api.*'] },
    { name: 'allow_any', domains: ['*'] },
  ],
};

describe('VHDS translation', () => {
  it('splits a resource name right to left (route configuration names may hold slashes)', () => {
    expect(splitVhdsName('8080/a.ns:8080')).toEqual({ routeConfig: '8080', host: 'a.ns:8080' });
    expect(splitVhdsName('gw/https/443/x.example.com')).toEqual({
      routeConfig: 'gw/https/443',
      host: 'x.example.com',
    });
    expect(splitVhdsName('8080')).toBeUndefined();
    expect(splitVhdsName('8080/')).toBeUndefined();
  });

  it('sends the route configuration without virtual hosts, pointing at VHDS over ADS', () => {
    const shell = vhdsRouteConfig(rc);
    expect(shell).toEqual({
      name: '8080',
      validateClusters: false,
      vhds: { configSource: { ads: {}, resourceApiVersion: 'V3' } },
    });
  });

  it('answers a route configuration name with all its virtual hosts, renamed <route config>/<host>', () => {
    const out = virtualHostResources([rc], ['8080']);
    expect(out.map((r) => r.name)).toEqual([
      '8080/a.ns.svc.cluster.local:8080',
      '8080/allow_any',
      '8080/longer-wild:8080',
      '8080/prefix:8080',
      '8080/wild:8080',
    ]);
    for (const r of out) expect((r.body as { name: string }).name).toBe(r.name);
    expect(virtualHostResources([rc], ['9090'])).toEqual([]);
  });

  it('answers an on-demand <route config>/<host> with the virtual host Envoy would pick', () => {
    expect(virtualHostFor(rc, 'a')?.name).toBe('a.ns.svc.cluster.local:8080');
    expect(virtualHostFor(rc, 'x.api.example.com')?.name).toBe('longer-wild:8080');
    expect(virtualHostFor(rc, 'x.example.com')?.name).toBe('wild:8080');
    expect(virtualHostFor(rc, 'api.other')?.name).toBe('prefix:8080');
    expect(virtualHostFor(rc, 'unknown.host')?.name).toBe('allow_any');
    const names = ['8080/a', '8080/x.example.com'];
    expect(virtualHostResources([rc], names).map((r) => r.name)).toEqual([
      '8080/a.ns.svc.cluster.local:8080',
      '8080/wild:8080',
    ]);
    expect(aliasesOf('8080/a.ns.svc.cluster.local:8080', names, [rc])).toEqual(['8080/a']);
    expect(aliasesOf('8080/wild:8080', [...names, '8080/wild:8080'], [rc])).toEqual(['8080/x.example.com']);
    expect(virtualHostResources([rc], ['9090/a'])).toEqual([]);
  });

  it('is used only by Envoy sidecars that set SKEIN_VHDS', () => {
    const p = (type: string, generator: string, v?: unknown) => ({
      type,
      generator,
      metadata: v === undefined ? {} : { SKEIN_VHDS: v },
    });
    expect(wantsVhds(p('sidecar', 'envoy', 'true'))).toBe(true);
    expect(wantsVhds(p('sidecar', 'envoy'))).toBe(false);
    expect(wantsVhds(p('sidecar', 'envoy', 'false'))).toBe(false);
    expect(wantsVhds(p('router', 'envoy', 'true'))).toBe(false);
    expect(wantsVhds(p('sidecar', 'grpc', 'true'))).toBe(false);
  });
});
