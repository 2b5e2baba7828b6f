// State-of-the-world subscriptions shared between streams: thousands of proxies of one class
// subscribe to the same (often thousand-name) EDS set, so equal sets are held once — one Set,
// one sorted list, one key — instead of once per stream. Entries go when no stream holds them.

export interface Subscription {
  /** The names (without `*`). */
  readonly names: ReadonlySet<string>;
  readonly sorted: readonly string[];
  /** `sorted` joined: the cache key of what a class is sent for this subscription. */
  readonly key: string;
  /** The request order it was first seen in (a cheap equality check for the next request). */
  readonly raw: readonly string[];
}

export class Subscriptions {
  private readonly byKey = new Map<string, WeakRef<Subscription>>();
  private readonly cleanup = new FinalizationRegistry<string>((key) => {
    const ref = this.byKey.get(key);
    if (ref && ref.deref() === undefined) this.byKey.delete(key);
  });

  /** The shared subscription for `requested` (a request's resource names). */
  intern(requested: readonly string[]): Subscription {
    const raw = requested.filter((n) => n !== '*');
    const sorted = [...new Set(raw)].sort();
    const key = sorted.join(',');
    const hit = this.byKey.get(key)?.deref();
    if (hit) return hit;
    const sub: Subscription = { names: new Set(sorted), sorted, key, raw };
    this.byKey.set(key, new WeakRef(sub));
    this.cleanup.register(sub, key);
    return sub;
  }

  /** Distinct subscriptions currently held. */
  get size(): number {
    return this.byKey.size;
  }
}

/** Whether a request's names are exactly `sub`'s (checked in request order first, cheaply). */
export function sameNames(sub: Subscription | undefined, requested: readonly string[]): boolean {
  if (!sub) return false;
  const raw = sub.raw;
  if (raw.length === requested.length && raw.every((n, i) => n === requested[i])) return true;
  const names = new Set(requested.filter((n) => n !== '*'));
  if (names.size !== sub.names.size) return false;
  for (const n of names) if (!sub.names.has(n)) return false;
  return true;
}
