// The request side of RequestAuthentication: what a proxy's jwt_authn filter does with the
// configuration translateRequestAuthentication builds — find the token, verify it against the
// provider's JWKS (inline, or fetched and cached) with node:crypto, check issuer, audiences and
// time, and produce the istio_authn metadata that request.auth.* RBAC rules read.
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import type { jwtAuthnV3 } from '@skein/api-types';

type Provider = jwtAuthnV3.JwtProviderJson;
type Config = jwtAuthnV3.JwtAuthenticationJson;

export interface JwtRequest {
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The request path with its query string. */
  path: string;
}

export type JwtOutcome =
  | {
      ok: true;
      /** Dynamic metadata under `istio_authn` (absent when the request carried no token). */
      metadata?: Record<string, unknown>;
      /** The verified payload under the provider's payloadInMetadata key. */
      payload?: Record<string, unknown>;
      headersToSet: Record<string, string>;
      headersToRemove: string[];
    }
  | { ok: false; status: 401; reason: string };

/** JWKS of a provider: inline, or fetched from its URI (cached by jwksResolver). */
export type JwksResolver = (p: Provider) => Promise<{ keys?: JsonWebKey[] }>;

/** Resolves inline JWKS, and remote ones through `fetchText` with a cache (default 5 min, Envoy's). */
export function jwksResolver(
  fetchText: (uri: string) => Promise<string> = async (uri) =>
    (await fetch(uri, { signal: AbortSignal.timeout(5000) })).text(),
  now: () => number = Date.now,
): JwksResolver {
  const cache = new Map<string, { at: number; ttl: number; jwks: { keys?: JsonWebKey[] } }>();
  return async (p) => {
    if (p.localJwks?.inlineString) return JSON.parse(p.localJwks.inlineString) as { keys?: JsonWebKey[] };
    const uri = p.remoteJwks?.httpUri?.uri;
    if (!uri) return { keys: [] };
    const ttl = p.remoteJwks?.cacheDuration
      ? Number.parseFloat(String(p.remoteJwks.cacheDuration)) * 1000
      : 300_000;
    const hit = cache.get(uri);
    if (hit && now() - hit.at < hit.ttl) return hit.jwks;
    const jwks = JSON.parse(await fetchText(uri)) as { keys?: JsonWebKey[] };
    cache.set(uri, { at: now(), ttl, jwks });
    return jwks;
  };
}

const b64url = (s: string) => Buffer.from(s, 'base64url');

/** Where a provider looks for its token (Authorization: Bearer by default). */
function tokenFor(p: Provider, req: JwtRequest): { token: string; header?: string } | undefined {
  const headers = p.fromHeaders ?? [];
  const params = p.fromParams ?? [];
  const defaults = headers.length === 0 && params.length === 0 && (p.fromCookies ?? []).length === 0;
  for (const h of defaults ? [{ name: 'authorization', valuePrefix: 'Bearer ' }] : headers) {
    const v = req.headers[(h.name ?? '').toLowerCase()];
    if (v === undefined) continue;
    const prefix = h.valuePrefix ?? '';
    if (v.startsWith(prefix))
      return { token: v.slice(prefix.length).trim(), header: (h.name ?? '').toLowerCase() };
  }
  const q = new URLSearchParams(req.path.split('?')[1] ?? '');
  for (const name of params) {
    const v = q.get(name);
    if (v) return { token: v };
  }
  return undefined;
}

const ALGS: Record<string, { hash: string; ec?: boolean; pss?: boolean }> = {
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', pss: true },
  ES256: { hash: 'sha256', ec: true },
  ES384: { hash: 'sha384', ec: true },
};

function verifySignature(token: string, header: { alg?: string; kid?: string }, keys: JsonWebKey[]): boolean {
  const alg = ALGS[header.alg ?? ''];
  if (!alg) return false;
  const [h, p, sig] = token.split('.');
  const data = Buffer.from(`${h}.${p}`);
  const candidates = keys.filter(
    (k) =>
      (!header.kid || (k as { kid?: string }).kid === header.kid) && (!k['alg'] || k['alg'] === header.alg),
  );
  return candidates.some((jwk) => {
    try {
      const key = createPublicKey({ key: jwk, format: 'jwk' });
      return verify(
        alg.hash,
        data,
        alg.ec ? { key, dsaEncoding: 'ieee-p1363' } : alg.pss ? { key, padding: 6, saltLength: 32 } : key,
        b64url(sig ?? ''),
      );
    } catch {
      return false;
    }
  });
}

function claimValues(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  if (typeof v === 'number' || typeof v === 'boolean') return [String(v)];
  return undefined;
}

/** Runs the jwt_authn semantics of `config` (requires_any of its providers, missing allowed). */
export async function authenticateJwt(
  config: Config,
  req: JwtRequest,
  jwks: JwksResolver,
  now = Date.now(),
): Promise<JwtOutcome> {
  const providers = Object.entries(config.providers ?? {});
  const found = providers
    .map(([name, p]) => ({ name, p, t: tokenFor(p, req) }))
    .filter((x) => x.t !== undefined);
  const allowMissing = (config.rules ?? []).some((r) =>
    (r.requires?.requiresAny?.requirements ?? []).some(
      (x) => x.allowMissing !== undefined || x.allowMissingOrFailed !== undefined,
    ),
  );
  if (found.length === 0) {
    return allowMissing || providers.length === 0
      ? { ok: true, headersToSet: {}, headersToRemove: [] }
      : { ok: false, status: 401, reason: 'Jwt is missing' };
  }
  let reason = 'Jwt issuer is not configured';
  for (const { p, t } of found) {
    const token = t!.token;
    const parts = token.split('.');
    if (parts.length !== 3)
      return { ok: false, status: 401, reason: 'Jwt is not in the form of Header.Payload.Signature' };
    let header: { alg?: string; kid?: string };
    let payload: Record<string, unknown>;
    try {
      header = JSON.parse(b64url(parts[0]!).toString()) as typeof header;
      payload = JSON.parse(b64url(parts[1]!).toString()) as Record<string, unknown>;
    } catch {
      return { ok: false, status: 401, reason: 'Jwt header or payload is not valid JSON' };
    }
    if (p.issuer && payload['iss'] !== p.issuer) continue;
    const skew = (p.clockSkewSeconds ?? 60) * 1000;
    if (typeof payload['exp'] === 'number' && now - skew >= payload['exp'] * 1000)
      return { ok: false, status: 401, reason: 'Jwt is expired' };
    if (typeof payload['nbf'] === 'number' && now + skew < payload['nbf'] * 1000)
      return { ok: false, status: 401, reason: 'Jwt not yet valid' };
    const aud = claimValues(payload['aud']) ?? [];
    if (p.audiences?.length && !aud.some((a) => p.audiences!.includes(a))) {
      reason = 'Audiences in Jwt are not allowed';
      continue;
    }
    let keys: JsonWebKey[];
    try {
      keys = (await jwks(p)).keys ?? [];
    } catch (e) {
      return { ok: false, status: 401, reason: `Jwks remote fetch failed: ${(e as Error).message}` };
    }
    if (!verifySignature(token, header, keys)) {
      reason = 'Jwt verification fails';
      continue;
    }
    const metadata: Record<string, unknown> = {
      'request.auth.principal': `${String(payload['iss'])}/${String(payload['sub'])}`,
      'request.auth.audiences': aud,
      ...(typeof payload['azp'] === 'string' ? { 'request.auth.presenter': payload['azp'] } : {}),
    };
    for (const [k, v] of Object.entries(payload)) {
      const vals = claimValues(v);
      if (vals) metadata[`request.auth.claims.${k}`] = vals;
    }
    const headersToSet: Record<string, string> = {};
    if (p.forwardPayloadHeader) headersToSet[p.forwardPayloadHeader.toLowerCase()] = parts[1]!;
    for (const c of p.claimToHeaders ?? []) {
      const v = payload[c.claimName ?? ''];
      if (v !== undefined && c.headerName)
        headersToSet[c.headerName.toLowerCase()] = typeof v === 'string' ? v : JSON.stringify(v);
    }
    return {
      ok: true,
      metadata,
      payload,
      headersToSet,
      headersToRemove: !p.forward && t!.header ? [t!.header] : [],
    };
  }
  return { ok: false, status: 401, reason };
}
