// Load balancing over a cluster's hosts: priority failover and locality weights pick the set,
// then round robin, least request (power of two choices), random, ring hash or Maglev picks the
// host. Pure apart from the injected random source.
import { fnv1a } from './hash.js';
import { isAvailable, type Host } from '../endpoint/host.js';

export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'MAGLEV';

export interface PickContext {
  /** Request hash from the route's hash policy (ring hash and Maglev). */
  hash?: number | undefined;
  /** Hosts to avoid (the previous-hosts retry predicate). */
  avoid?: ReadonlySet<string> | undefined;
  now: number;
}

export interface LoadBalancer {
  pick(ctx: PickContext): Host | undefined;
}

export interface LbOptions {
  random?: () => number;
  ringSize?: number;
  maglevTableSize?: number;
  localityWeighted?: boolean;
  choiceCount?: number;
}

/** Hosts of the lowest priority that has any available host; all hosts in panic. */
export function eligibleHosts(hosts: readonly Host[], now: number): readonly Host[] {
  // The common case — one priority, every host available — is the list itself, nothing allocated.
  const p0 = hosts[0]?.priority;
  let all = true;
  for (const h of hosts) {
    if (h.priority !== p0 || !isAvailable(h, now)) {
      all = false;
      break;
    }
  }
  if (all) return hosts;
  const priorities = [...new Set(hosts.map((h) => h.priority))].sort((a, b) => a - b);
  for (const p of priorities) {
    const avail = hosts.filter((h) => h.priority === p && isAvailable(h, now));
    if (avail.length > 0) return avail;
  }
  // Panic: nothing is available anywhere, so spread over every host (as Envoy does).
  return [...hosts];
}

function chooseLocality(hosts: readonly Host[], rand: () => number): readonly Host[] {
  const weights = new Map<string, number>();
  for (const h of hosts) weights.set(h.locality, h.localityWeight);
  if (weights.size <= 1) return hosts;
  const total = [...weights.values()].reduce((a, b) => a + b, 0);
  let r = rand() * total;
  for (const [loc, w] of weights) {
    if ((r -= w) < 0) return hosts.filter((h) => h.locality === loc);
  }
  return hosts;
}

function withoutAvoided(hosts: readonly Host[], avoid: ReadonlySet<string> | undefined): readonly Host[] {
  if (!avoid || avoid.size === 0) return hosts;
  const rest = hosts.filter((h) => !avoid.has(h.key));
  return rest.length > 0 ? rest : hosts;
}

function buildRing(hosts: readonly Host[], minSize: number): { hashes: Uint32Array; hosts: Host[] } {
  const totalWeight = hosts.reduce((a, h) => a + h.weight, 0);
  const entries: [number, Host][] = [];
  for (const h of hosts) {
    const n = Math.max(1, Math.ceil((minSize * h.weight) / totalWeight));
    for (let i = 0; i < n; i++) entries.push([fnv1a(`${h.key}_${i}`), h]);
  }
  entries.sort((a, b) => a[0] - b[0]);
  return { hashes: Uint32Array.from(entries.map((e) => e[0])), hosts: entries.map((e) => e[1]) };
}

function buildMaglev(hosts: readonly Host[], size: number): Host[] {
  const n = hosts.length;
  const table: (Host | undefined)[] = new Array<Host | undefined>(size).fill(undefined);
  const offsets = hosts.map((h) => fnv1a(h.key, 0x1234567) % size);
  const skips = hosts.map((h) => (fnv1a(h.key, 0x7654321) % (size - 1)) + 1);
  const next = new Array<number>(n).fill(0);
  const maxWeight = Math.max(...hosts.map((h) => h.weight));
  const credit = new Array<number>(n).fill(0);
  let filled = 0;
  while (filled < size) {
    for (let i = 0; i < n && filled < size; i++) {
      const host = hosts[i];
      if (!host) continue;
      credit[i] = (credit[i] ?? 0) + host.weight / maxWeight;
      if ((credit[i] ?? 0) < 1) continue;
      credit[i] = (credit[i] ?? 0) - 1;
      for (;;) {
        const c = ((offsets[i] ?? 0) + (next[i] ?? 0) * (skips[i] ?? 1)) % size;
        next[i] = (next[i] ?? 0) + 1;
        if (table[c] === undefined) {
          table[c] = host;
          filled++;
          break;
        }
      }
    }
  }
  return table as Host[];
}

/**
 * A load balancer over a fixed host list (rebuilt when the hosts change). Availability
 * (health, ejection) is checked at pick time so ejections take effect immediately.
 */
export function createLoadBalancer(
  policy: LbPolicy,
  hosts: readonly Host[],
  opts: LbOptions = {},
): LoadBalancer {
  const rand = opts.random ?? Math.random;
  const pickSet = (ctx: PickContext): readonly Host[] => {
    let set = eligibleHosts(hosts, ctx.now);
    if (opts.localityWeighted) set = chooseLocality(set, rand);
    return withoutAvoided(set, ctx.avoid);
  };
  switch (policy) {
    case 'ROUND_ROBIN': {
      // Smooth weighted round robin: each pick adds weights and takes the largest.
      const current = new Map<string, number>();
      return {
        pick(ctx) {
          const set = pickSet(ctx);
          if (set.length === 0) return undefined;
          let total = 0;
          let best: Host | undefined;
          let bestVal = -Infinity;
          for (const h of set) {
            const v = (current.get(h.key) ?? 0) + h.weight;
            current.set(h.key, v);
            total += h.weight;
            if (v > bestVal) {
              bestVal = v;
              best = h;
            }
          }
          if (best) current.set(best.key, bestVal - total);
          return best;
        },
      };
    }
    case 'LEAST_REQUEST':
      return {
        pick(ctx) {
          const set = pickSet(ctx);
          if (set.length <= 1) return set[0];
          const choices = Math.max(2, opts.choiceCount ?? 2);
          let best: Host | undefined;
          for (let i = 0; i < choices; i++) {
            const h = set[Math.floor(rand() * set.length)];
            if (h && (!best || h.activeRequests / h.weight < best.activeRequests / best.weight)) best = h;
          }
          return best;
        },
      };
    case 'RANDOM':
      return {
        pick(ctx) {
          const set = pickSet(ctx);
          const total = set.reduce((a, h) => a + h.weight, 0);
          let r = rand() * total;
          for (const h of set) if ((r -= h.weight) < 0) return h;
          return set[set.length - 1];
        },
      };
    case 'RING_HASH': {
      const ring = hosts.length > 0 ? buildRing(hosts, opts.ringSize ?? 1024) : undefined;
      return {
        pick(ctx) {
          if (!ring || ring.hosts.length === 0) return undefined;
          const hash = ctx.hash ?? Math.floor(rand() * 0xffffffff);
          let lo = 0;
          let hi = ring.hashes.length;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if ((ring.hashes[mid] ?? 0) < hash) lo = mid + 1;
            else hi = mid;
          }
          // Walk forward past unavailable or avoided hosts.
          for (let i = 0; i < ring.hosts.length; i++) {
            const h = ring.hosts[(lo + i) % ring.hosts.length];
            if (h && isAvailable(h, ctx.now) && !ctx.avoid?.has(h.key)) return h;
          }
          return ring.hosts[lo % ring.hosts.length];
        },
      };
    }
    case 'MAGLEV': {
      const size = opts.maglevTableSize ?? 65537;
      const table = hosts.length > 0 ? buildMaglev(hosts, size) : [];
      return {
        pick(ctx) {
          if (table.length === 0) return undefined;
          const hash = ctx.hash ?? Math.floor(rand() * 0xffffffff);
          for (let i = 0; i < table.length; i++) {
            const h = table[(hash + i) % table.length];
            if (h && isAvailable(h, ctx.now) && !ctx.avoid?.has(h.key)) return h;
          }
          return table[hash % table.length];
        },
      };
    }
  }
}

/** The LB policy of a cluster's `lb_policy` field (Envoy's default is ROUND_ROBIN). */
export function lbPolicyOf(lbPolicy: string | undefined): LbPolicy {
  switch (lbPolicy) {
    case 'LEAST_REQUEST':
    case 'RANDOM':
    case 'RING_HASH':
    case 'MAGLEV':
      return lbPolicy;
    case undefined:
    case 'ROUND_ROBIN':
      return 'ROUND_ROBIN';
    default:
      throw new Error(`lb_policy ${lbPolicy} is not supported`);
  }
}
