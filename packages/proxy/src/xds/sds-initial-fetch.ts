// SDS `initial_fetch_timeout`: each SDS secret a listener or cluster names is one subscription whose
// first response Envoy waits for at most its `sds_config`'s initial_fetch_timeout (15 s by default,
// `0s` forever), counted from the subscription's start. When it runs out, the secret's init target
// is ready without it: listeners waiting for it serve (their handshakes fail until it arrives) and
// `sds.<secret>.init_fetch_timeout` counts it. Shared by every resource naming the secret: once the
// wait is over, later listeners do not wait for that secret either (Envoy's shared init target).
import { initialFetchTimeoutMs } from './initial-fetch.js';
import { durationMs } from '../util/duration.js';

/** Pseudo type URL the primary forwards to worker threads: `removed` lists secrets whose wait ran out. */
export const SDS_INITIAL_FETCH_TIMED_OUT = 'skein.internal/sds-initial-fetch-timed-out';

interface SdsConfigJson {
  name?: string;
  sdsConfig?: { initialFetchTimeout?: string };
}

/**
 * Secret name → its config source's initial_fetch_timeout in ms (0: wait forever), for every SDS
 * secret reference inside `resources` (tls_certificate_sds_secret_configs and
 * validation_context_sds_secret_config, nested typed configs included). A secret named by several
 * references takes the first one's.
 */
export function sdsFetchTimeouts(resources: readonly unknown[]): Map<string, number> {
  const out = new Map<string, number>();
  const add = (c: SdsConfigJson): void => {
    if (!c.name || c.sdsConfig === undefined || out.has(c.name)) return;
    out.set(c.name, initialFetchTimeoutMs(c.sdsConfig, durationMs));
  };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === 'tlsCertificateSdsSecretConfigs' && Array.isArray(x)) (x as SdsConfigJson[]).forEach(add);
      else if (k === 'validationContextSdsSecretConfig' && x && typeof x === 'object')
        add(x as SdsConfigJson);
      else walk(x);
    }
  };
  walk(resources);
  return out;
}
