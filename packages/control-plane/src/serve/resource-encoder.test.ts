import { decodeToJson, encodeJson, TypeUrl } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { seededUint32 } from '../../test/support/seeded-random.js';
import { diffByName, diffByPlaces } from './resource-diff.js';
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

describe('ResourceEncoder.encodeList', () => {
  const vh = (i: number, weight: number) => ({
    name: `h${i}:80`,
    domains: [`h${i}`],
    routes: [{ match: { prefix: '/' }, route: { cluster: `c${i}`, timeout: `${weight}s` } }],
  });
  const VH = 'type.googleapis.com/envoy.config.route.v3.VirtualHost';
  const plain = (e: { name: string; version: string; any: { value: Uint8Array } }) => ({
    name: e.name,
    version: e.version,
    bytes: Buffer.from(e.any.value).toString('hex'),
  });

  it('keeps the encoding of unchanged places and encodes the patched ones', () => {
    const enc = new ResourceEncoder();
    const first = Array.from({ length: 5 }, (_, i) => ({ name: `80/h${i}`, body: vh(i, 1) }));
    const encoded = enc.encodeList(VH, first);
    enc.rotate();
    // A patched list: same Resource objects except at place 2.
    const next = first.slice();
    next[2] = { name: '80/h2', body: vh(2, 7) };
    const out = enc.encodeList(VH, next, { generated: first, encoded });
    for (const i of [0, 1, 3, 4]) expect(out[i]).toBe(encoded[i]);
    expect(out[2]?.version).not.toBe(encoded[2]?.version);
    expect(out.map(plain)).toEqual(new ResourceEncoder().encodeList(VH, next).map(plain));
    // The patch is recorded: the list it came from and the place encoded anew.
    expect(enc.patchOf(out)).toEqual({ from: encoded, places: [2] });
    // A renamed place (the name sequence differs) records none, nor does a list encoded whole.
    const renamed = first.slice();
    renamed[1] = { name: '80/x1', body: vh(1, 1) };
    expect(enc.patchOf(enc.encodeList(VH, renamed, { generated: first, encoded }))).toBeUndefined();
    expect(enc.patchOf(encoded)).toBeUndefined();
  });

  it('equals encoding every resource anew over random edit sequences', () => {
    const next = seededUint32(7);
    const rand = (n: number): number => next() % n;
    const bodies = new Map<number, object>();
    const bodyOf = (i: number, w: number): object => {
      const k = i * 100 + w;
      let b = bodies.get(k);
      if (!b) bodies.set(k, (b = vh(i, w)));
      return b; // memoized bodies: equal content is the same object, as vhost-memo hands them out
    };
    const enc = new ResourceEncoder();
    let list = Array.from({ length: 8 }, (_, i) => ({ name: `80/h${i}`, body: bodyOf(i, 0) }));
    let encoded = enc.encodeList(VH, list);
    let patched = 0;
    for (let step = 0; step < 200; step++) {
      enc.rotate();
      const next = list.slice();
      const edits = rand(3);
      for (let e = 0; e < edits; e++) {
        const at = rand(next.length);
        const kind = rand(4);
        if (kind === 0)
          next[at] = { name: `80/h${at}`, body: bodyOf(at, rand(5)) }; // new content
        else if (kind === 1)
          next[at] = { name: `80/h${at}`, body: next[at]!.body }; // same body, new object
        else if (kind === 2)
          next[at] = { name: `80/x${at}`, body: next[at]!.body }; // renamed
        else if (next.length > 4)
          next.splice(at, 1); // a different length: encoded whole
        else next.push({ name: `80/h${next.length}`, body: bodyOf(next.length, 0) });
      }
      const out = enc.encodeList(VH, next, { generated: list, encoded });
      expect(out.map(plain)).toEqual(new ResourceEncoder().encodeList(VH, next).map(plain));
      // Where a patch is recorded, diffing its places alone equals diffing the whole lists (of
      // distinct names, as generated lists are; the edits here may repeat a name).
      const patch = enc.patchOf(out);
      if (patch && new Set(out.map((r) => r.name)).size === out.length) {
        patched++;
        expect(patch.from).toBe(encoded);
        const byPlaces = diffByPlaces(encoded, out, patch.places);
        const whole = diffByName(encoded, out);
        expect({ changed: byPlaces.changed.map(plain), removed: byPlaces.removed }).toEqual({
          changed: whole.changed.map(plain),
          removed: whole.removed,
        });
      }
      list = next;
      encoded = out;
    }
    expect(patched).toBeGreaterThan(50);
  });
});
