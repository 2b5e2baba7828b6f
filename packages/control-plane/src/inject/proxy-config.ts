// The effective ProxyConfig of a pod: the mesh config's `defaultConfig` overlaid with the pod's
// `proxy.istio.io/config` annotation (YAML or JSON). Only the fields the sidecar template uses
// are read; a malformed annotation is an error the webhook reports (the pod is not created).
import { parse } from 'yaml';
import { isRecord } from './pod-types.js';

export const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';

export interface EffectiveProxyConfig {
  readonly terminationDrainDuration: string;
  readonly holdApplicationUntilProxyStarts: boolean;
  readonly proxyMetadata: Readonly<Record<string, string>>;
  /** Worker threads of skein-proxy (Envoy's `--concurrency`; 0: one per CPU); unset: the proxy's default (2). */
  readonly concurrency?: number;
}

const durationRe = /^\d+(\.\d+)?(ms|s|m|h)$/;

export function effectiveProxyConfig(
  defaults: Readonly<Record<string, unknown>>,
  annotation: string | undefined,
): EffectiveProxyConfig {
  let pod: Record<string, unknown> = {};
  if (annotation !== undefined && annotation.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = parse(annotation);
    } catch (e) {
      throw new Error(`annotation ${PROXY_CONFIG_ANNOTATION}: ${(e as Error).message}`);
    }
    if (!isRecord(parsed)) throw new Error(`annotation ${PROXY_CONFIG_ANNOTATION}: must be a mapping`);
    pod = parsed;
  }
  const pick = (k: string): unknown => (pod[k] !== undefined ? pod[k] : defaults[k]);
  const drain = pick('terminationDrainDuration') ?? '5s';
  if (typeof drain !== 'string' || !durationRe.test(drain))
    throw new Error(
      `annotation ${PROXY_CONFIG_ANNOTATION}: terminationDrainDuration: want a duration like 5s, got ${JSON.stringify(drain)}`,
    );
  const hold = pick('holdApplicationUntilProxyStarts') ?? true;
  const metadata: Record<string, string> = {};
  for (const source of [defaults['proxyMetadata'], pod['proxyMetadata']])
    if (isRecord(source)) for (const [k, v] of Object.entries(source)) metadata[k] = String(v);
  const concurrency = pick('concurrency');
  if (
    concurrency !== undefined &&
    concurrency !== null &&
    (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 0)
  )
    throw new Error(
      `annotation ${PROXY_CONFIG_ANNOTATION}: concurrency: want a whole number ≥ 0, got ${JSON.stringify(concurrency)}`,
    );
  return {
    ...(typeof concurrency === 'number' ? { concurrency } : {}),
    terminationDrainDuration: drain,
    holdApplicationUntilProxyStarts: hold !== false,
    proxyMetadata: metadata,
  };
}
