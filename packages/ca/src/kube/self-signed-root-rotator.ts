// Kubernetes mode: istiod's self-signed root rotator. Every check interval (default 1 h) Secret
// istio-ca-secret is read; once its root's remaining lifetime falls under the grace period (20 %
// of its lifetime), a new root is made from the same key and subject and written back with the
// Secret's resourceVersion (a replica that edited it first wins; this one re-reads and finds the
// work done). `root-cert.pem` then holds the new root and the old one until the old one expires,
// so the published trust bundle covers both. A Secret that fails its checks is never rewritten.
import { X509Certificate } from 'node:crypto';
import {
  renewSelfSignedRoot,
  rootRenewalTime,
  ROOT_GRACE_PERCENT,
  ROOT_TTL_SECONDS,
} from '../pki/root-renewal.js';
import { trustBundlePem } from '../pki/pem.js';
import type { KubeApi } from './kube-client.js';
import { PLUGIN_SECRET, SELF_SIGNED_SECRET, enc, selfSignedMaterial, type SecretBody } from './kube-ca.js';

export interface RootRotatorOptions {
  /** Renew when less than this share of the root's lifetime remains; default 20 (istiod's). */
  gracePercent?: number;
  /** Lifetime of a renewed root; default 10 years (istiod's CITADEL_SELF_SIGNED_CA_CERT_TTL). */
  ttlSeconds?: number;
  /** Clock in milliseconds since the epoch; default Date.now. */
  now?: () => number;
}

export type RootCheck =
  | { action: 'rotated'; renewAt: Date; rootCertPem: string }
  | { action: 'not-due' | 'pruned'; renewAt: Date }
  | { action: 'skipped'; reason: string };

const MAX_ATTEMPTS = 5;

/**
 * One check of istio-ca-secret: renews the root when due, drops expired roots from its
 * `root-cert.pem`. Throws (writing nothing) when the Secret is unreadable or inconsistent.
 */
export async function checkSelfSignedRoot(
  kube: KubeApi,
  namespace: string,
  o: RootRotatorOptions = {},
): Promise<RootCheck> {
  const now = o.now ?? Date.now;
  const path = `/api/v1/namespaces/${namespace}/secrets`;
  if ((await kube.call('GET', `${path}/${PLUGIN_SECRET}`)).status === 200)
    return { action: 'skipped', reason: `plug-in CA (${namespace}/${PLUGIN_SECRET}): rotated by its owner` };
  for (let attempt = 1; ; attempt++) {
    const r = await kube.call<SecretBody>('GET', `${path}/${SELF_SIGNED_SECRET}`);
    if (r.status === 404)
      return { action: 'skipped', reason: `no secret ${namespace}/${SELF_SIGNED_SECRET}` };
    if (r.status !== 200) throw new Error(`reading ${namespace}/${SELF_SIGNED_SECRET}: HTTP ${r.status}`);
    const secret = r.body;
    // Checks key and certificate; a broken Secret throws here, before anything is written.
    const material = selfSignedMaterial(secret.data, `${namespace}/${SELF_SIGNED_SECRET}`);
    const t = now();
    const renewAt = rootRenewalTime(material.caCertPem, o.gracePercent ?? ROOT_GRACE_PERCENT);
    const alive = (pem: string) => new Date(new X509Certificate(pem).validTo).getTime() > t;
    const others = (material.otherRootPems ?? []).filter(alive);
    let data: Record<string, string>;
    let result: RootCheck;
    if (t < renewAt.getTime()) {
      if (others.length === (material.otherRootPems ?? []).length) return { action: 'not-due', renewAt };
      data = { 'root-cert.pem': enc(trustBundlePem([material.caCertPem, ...others])) };
      result = { action: 'pruned', renewAt };
    } else {
      const renewed = await renewSelfSignedRoot(material, {
        ttlSeconds: o.ttlSeconds ?? ROOT_TTL_SECONDS,
        now: t,
      });
      const bundle = trustBundlePem([renewed, ...[material.caCertPem, ...others].filter(alive)]);
      data = { 'ca-cert.pem': enc(renewed), 'root-cert.pem': enc(bundle) };
      result = {
        action: 'rotated',
        renewAt: rootRenewalTime(renewed, o.gracePercent ?? ROOT_GRACE_PERCENT),
        rootCertPem: bundle,
      };
    }
    // The whole object as read (other keys, labels, annotations kept), with its resourceVersion:
    // a concurrent edit makes this PUT fail with 409 and the check runs again on the new text.
    const put = await kube.call('PUT', `${path}/${SELF_SIGNED_SECRET}`, {
      ...secret,
      data: { ...secret.data, ...data },
    });
    if (put.status === 200) return result;
    if (put.status !== 409 || attempt >= MAX_ATTEMPTS)
      throw new Error(`updating ${namespace}/${SELF_SIGNED_SECRET}: HTTP ${put.status}`);
  }
}

export interface RootRotator {
  /** Runs a check now (serialised with the periodic ones). */
  check(): Promise<RootCheck>;
  stop(): void;
}

/**
 * Checks istio-ca-secret every `intervalMs` (default 1 h, istiod's
 * CITADEL_SELF_SIGNED_ROOT_CERT_CHECK_INTERVAL); after a change of the Secret `reload` is called
 * (the CA's Secret watch, which swaps the CA's material and trust bundle and republishes the root).
 */
export function startSelfSignedRootRotator(
  kube: KubeApi,
  namespace: string,
  o: RootRotatorOptions & {
    intervalMs?: number;
    reload: () => Promise<unknown>;
    log?: (msg: string, fields?: Record<string, unknown>) => void;
  },
): RootRotator {
  let chain: Promise<unknown> = Promise.resolve();
  const check = (): Promise<RootCheck> => {
    const run = chain.then(async () => {
      const r = await checkSelfSignedRoot(kube, namespace, o);
      if (r.action === 'rotated' || r.action === 'pruned') {
        o.log?.(
          r.action === 'rotated'
            ? 'self-signed root renewed with its key; the previous root stays trusted until it expires'
            : 'expired root dropped from the trust bundle',
          { secret: `${namespace}/${SELF_SIGNED_SECRET}`, nextRenewal: r.renewAt.toISOString() },
        );
        await o.reload();
      }
      return r;
    });
    chain = run.catch(() => undefined);
    return run;
  };
  const timer = setInterval(
    () =>
      void check().catch((e: Error) =>
        o.log?.('self-signed root check failed; nothing written', { error: e.message }),
      ),
    o.intervalMs ?? 3_600_000,
  );
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}

/** The renewal options from istiod's environment variables, where set. */
export function rootRotatorEnv(env: NodeJS.ProcessEnv = process.env): {
  intervalMs?: number;
  gracePercent?: number;
  ttlSeconds?: number;
} {
  const out: { intervalMs?: number; gracePercent?: number; ttlSeconds?: number } = {};
  const interval = goDurationMs(env['CITADEL_SELF_SIGNED_ROOT_CERT_CHECK_INTERVAL']);
  if (interval !== undefined) out.intervalMs = interval;
  const grace = Number(env['CITADEL_SELF_SIGNED_ROOT_CERT_GRACE_PERIOD_PERCENTILE']);
  if (env['CITADEL_SELF_SIGNED_ROOT_CERT_GRACE_PERIOD_PERCENTILE'] && grace > 0 && grace < 100)
    out.gracePercent = grace;
  const ttl = goDurationMs(env['CITADEL_SELF_SIGNED_CA_CERT_TTL']);
  if (ttl !== undefined) out.ttlSeconds = ttl / 1000;
  return out;
}

/** A Go duration (`1h`, `87600h`, `90m30s`, `500ms`) in milliseconds; undefined when unset or invalid. */
export function goDurationMs(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text.trim();
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * unit[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total > 0 ? total : undefined;
}
