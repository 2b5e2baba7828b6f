// VhdsRoutes: a VHDS route configuration is installed only once its virtual hosts arrive; an
// update is staged and committed whole or not at all; removals and a changed VHDS source apply.
import { describe, expect, it } from 'vitest';
import { routeConfigOf, VhdsRoutes } from './vhds-routes.js';

const base = { name: 'r/8080', vhds: { configSource: { ads: {} } } };
const vh = (host: string, cluster: string, prefix = '/') => ({
  name: `r/8080/${host}`,
  json: { name: `r/8080/${host}`, domains: [host], routes: [{ match: { prefix }, route: { cluster } }] },
});

describe('VhdsRoutes', () => {
  it('splits names right to left', () => {
    expect(routeConfigOf('r/8080/a.b:80')).toBe('r/8080');
    expect(routeConfigOf('nohost')).toBeUndefined();
  });

  it('installs a route configuration once its virtual hosts arrive, then merges updates', () => {
    const v = new VhdsRoutes();
    expect(v.setBase(base)).toBeUndefined();
    expect(v.wanted()).toEqual(['r/8080']);
    const first = v.stage([vh('a', 'ca'), vh('b', 'cb')], []);
    if (!first.ok) throw new Error(first.error);
    expect(first.compiled.map((c) => c.name)).toEqual(['r/8080']);
    first.commit();
    const table = first.compiled[0]?.table;
    expect(table?.selectVirtualHost('a')?.vhost.name).toBe('r/8080/a');

    const next = v.stage([vh('a', 'ca2')], ['r/8080/b']);
    if (!next.ok) throw new Error(next.error);
    next.commit();
    const merged = next.compiled[0]?.config;
    expect(merged?.virtualHosts?.map((h) => h.name)).toEqual(['r/8080/a']);
    expect(JSON.stringify(merged)).toContain('ca2');
    // RDS resends the same route configuration: compiled at once with the hosts it has.
    expect(v.setBase(base)?.config.virtualHosts?.length).toBe(1);
  });

  it('rejects an update whole when one virtual host is bad, keeping the last good ones', () => {
    const v = new VhdsRoutes();
    v.setBase(base);
    const ok = v.stage([vh('a', 'ca')], []);
    if (!ok.ok) throw new Error(ok.error);
    ok.commit();
    const bad = {
      name: 'r/8080/b',
      json: {
        name: 'r/8080/b',
        domains: ['b'],
        routes: [{ match: { safeRegex: { regex: '(?=x)' } }, route: { cluster: 'cb' } }],
      },
    };
    const r = v.stage([vh('a', 'changed'), bad], []);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^virtual host r\/8080\/b: /);
    expect(v.stage([{ name: 'x', json: { domains: ['x'] } }], []).ok).toBe(false);
    expect(v.stage([{ name: 'r/8080/c', json: { name: 'c' } }], []).ok).toBe(false);
    // Nothing of the rejected updates was kept.
    expect(JSON.stringify(v.compile('r/8080', undefined))).not.toContain('changed');
    const again = v.setBase(base);
    expect(again?.config.virtualHosts?.map((h) => h.name)).toEqual(['r/8080/a']);
  });

  it('starts over when the VHDS source changes, and forgets a removed route configuration', () => {
    const v = new VhdsRoutes();
    v.setBase(base);
    const s = v.stage([vh('a', 'ca')], []);
    if (s.ok) s.commit();
    expect(
      v.setBase({ ...base, vhds: { configSource: { ads: {}, resourceApiVersion: 'V3' } } }),
    ).toBeUndefined();
    v.removeBase('r/8080');
    expect(v.wanted()).toEqual([]);
  });
});
