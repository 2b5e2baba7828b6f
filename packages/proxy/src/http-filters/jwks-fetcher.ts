// Remote JWKS for jwt_authn, fetched as Envoy does: through the cluster `remote_jwks.http_uri`
// names (its hosts, pools and upstream TLS) with the URI's path and host, bounded by
// `http_uri.timeout`, cached for `cache_duration` (default 5 min). With `async_fetch` the JWKS is
// fetched when the filter is created, and an expired entry keeps serving while it is refetched
// in the background (a failed fetch is retried after `failed_refetch_duration`, default 1 s).
import type { JsonWebKey } from 'node:crypto';
import type { JwksResolver } from '@skein/ca';
import type { jwtAuthnV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';
import type { UpstreamCluster } from '../cluster/upstream-cluster.js';
import { sendUpstream } from '../router/upstream-request.js';

type Provider = jwtAuthnV3.JwtProviderJson;
type Jwks = { keys?: JsonWebKey[] };

export interface ClusterLookup {
  get(name: string): UpstreamCluster | undefined;
}

interface Entry {
  jwks?: Jwks;
  at: number;
  /** Earliest time of the next attempt after a failure. */
  retryAt: number;
  inflight?: Promise<Jwks> | undefined;
}

async function fetchThroughCluster(clusters: ClusterLookup, p: Provider): Promise<string> {
  const httpUri = p.remoteJwks?.httpUri;
  const url = new URL(httpUri?.uri ?? '');
  const cluster = clusters.get(httpUri?.cluster ?? '');
  if (!cluster) throw new Error(`jwks cluster ${httpUri?.cluster ?? ''} not found`);
  const host = cluster.pick({ now: Date.now() });
  if (!host) throw new Error(`jwks cluster ${cluster.name} has no healthy host`);
  const r = await sendUpstream(cluster, host, {
    method: 'GET',
    path: url.pathname + url.search,
    authority: url.host,
    headers: { accept: 'application/json' },
    body: undefined,
    protocol: cluster.protocol === 'http2' ? 'http2' : 'http1',
    signal: AbortSignal.timeout(durationMs(httpUri?.timeout) ?? 5000),
  });
  if (!r.ok) throw new Error(`jwks fetch from ${url.href}: ${r.failure}`);
  const chunks: Buffer[] = [];
  for await (const c of r.response.body) chunks.push(c as Buffer);
  if (r.response.status !== 200) throw new Error(`jwks fetch from ${url.href}: status ${r.response.status}`);
  return Buffer.concat(chunks).toString('utf8');
}

const perProxy = new WeakMap<ClusterLookup, JwksResolver & { prefetch(p: Provider): void }>();

/** The proxy's one resolver (its cache outlives configuration updates of the filter). */
export function jwksResolverFor(clusters: ClusterLookup): JwksResolver & { prefetch(p: Provider): void } {
  let r = perProxy.get(clusters);
  if (!r) {
    r = clusterJwksResolver(clusters);
    perProxy.set(clusters, r);
  }
  return r;
}

/** A JwksResolver for @skein/ca's verifier that fetches remote JWKS through clusters. */
export function clusterJwksResolver(
  clusters: ClusterLookup,
  fetchText: (p: Provider) => Promise<string> = (p) => fetchThroughCluster(clusters, p),
  now: () => number = Date.now,
): JwksResolver & { prefetch(p: Provider): void } {
  const cache = new Map<string, Entry>();
  const keyOf = (p: Provider): string =>
    `${p.remoteJwks?.httpUri?.cluster ?? ''}|${p.remoteJwks?.httpUri?.uri ?? ''}`;
  const refresh = (p: Provider, e: Entry): Promise<Jwks> => {
    e.inflight ??= fetchText(p)
      .then((text) => {
        const jwks = JSON.parse(text) as Jwks;
        e.jwks = jwks;
        e.at = now();
        return jwks;
      })
      .catch((err: unknown) => {
        const failed = p.remoteJwks?.asyncFetch?.failedRefetchDuration;
        e.retryAt = now() + (durationMs(failed) ?? 1000);
        throw err;
      })
      .finally(() => (e.inflight = undefined));
    return e.inflight;
  };
  const entry = (p: Provider): Entry => {
    const k = keyOf(p);
    let e = cache.get(k);
    if (!e) {
      e = { at: 0, retryAt: 0 };
      cache.set(k, e);
    }
    return e;
  };
  const resolve = async (p: Provider): Promise<Jwks> => {
    if (p.localJwks?.inlineString) return JSON.parse(p.localJwks.inlineString) as Jwks;
    if (!p.remoteJwks?.httpUri?.uri) return { keys: [] };
    const e = entry(p);
    const ttl = durationMs(p.remoteJwks.cacheDuration) ?? 300_000;
    if (e.jwks && now() - e.at < ttl) return e.jwks;
    if (e.jwks && p.remoteJwks.asyncFetch) {
      // Stale while refetching in the background.
      if (now() >= e.retryAt) void refresh(p, e).catch(() => {});
      return e.jwks;
    }
    return refresh(p, e);
  };
  return Object.assign(resolve, {
    prefetch(p: Provider): void {
      if (p.remoteJwks?.httpUri?.uri && p.remoteJwks.asyncFetch) void refresh(p, entry(p)).catch(() => {});
    },
  });
}
