// Automatic VIPs for ServiceEntry hosts without addresses, as Istio's DNS auto-allocation does:
// for proxies that ask for it (node metadata DNS_AUTO_ALLOCATE=true, set from
// ISTIO_META_DNS_AUTO_ALLOCATE), every such host (not a wildcard, resolution not NONE) gets an
// address in the class-E range 240.240.0.0/16 — derived from the hostname, so stable per host —
// which the name table hands to the DNS proxy and the outbound listeners are keyed by, so TCP
// services without addresses sharing a port are told apart.
import type { Service } from '../model/services.js';
import type { Snapshot } from '../model/snapshot.js';
import type { TranslateContext } from './context.js';

export const AUTO_ALLOCATE_PREFIX = '240.240.';

/** Whether a proxy asked for auto-allocated addresses. */
export function autoAllocates(ctx: TranslateContext): boolean {
  const v = ctx.proxy.metadata['DNS_AUTO_ALLOCATE'];
  return v === true || v === 'true';
}

const eligible = (s: Service): boolean =>
  s.registry === 'ServiceEntry' &&
  s.addresses.length === 0 &&
  !s.hostname.includes('*') &&
  s.resolution !== 'NONE';

/** FNV-1a, 32 bits. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const allocations = new WeakMap<Snapshot, ReadonlyMap<string, string>>();

/**
 * Every eligible host's address: its hash slot in 1..65534, the next free one on a collision
 * (hosts in name order, so the result depends only on the set of hosts).
 */
export function allocatedAddresses(snap: Snapshot): ReadonlyMap<string, string> {
  let out = allocations.get(snap);
  if (out) return out;
  const hosts = [...new Set(snap.services.filter(eligible).map((s) => s.hostname))].sort();
  const used = new Set<number>();
  const map = new Map<string, string>();
  for (const host of hosts) {
    let slot = (hash(host) % 65534) + 1;
    while (used.has(slot)) slot = (slot % 65534) + 1;
    used.add(slot);
    map.set(host, `${AUTO_ALLOCATE_PREFIX}${slot >> 8}.${slot & 255}`);
  }
  out = map;
  allocations.set(snap, out);
  return out;
}

const withVip = new WeakMap<Service, Service>();

/** The service as this proxy sees it: with its auto-allocated address when the proxy asked for one. */
export function withAutoAddress(ctx: TranslateContext, s: Service): Service {
  if (!autoAllocates(ctx) || !eligible(s)) return s;
  const cached = withVip.get(s);
  if (cached) return cached;
  const vip = allocatedAddresses(ctx.snapshot).get(s.hostname);
  if (!vip) return s;
  const out = { ...s, addresses: [vip] };
  withVip.set(s, out);
  return out;
}
