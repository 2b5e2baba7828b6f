// MeshConfig: the mesh-wide settings with Istio's field names, and Istio's defaults for every
// field the user leaves out. Parsing the file lives in ingest/; this module is pure.
import type { LabelSelector } from './namespaces.js';

export interface ExtensionProvider {
  readonly name: string;
  readonly opentelemetry?: { readonly service: string; readonly port: number } | undefined;
  readonly zipkin?: { readonly service: string; readonly port: number } | undefined;
  readonly prometheus?: Record<string, never> | undefined;
  readonly envoyFileAccessLog?: { readonly path?: string | undefined } | undefined;
}

export interface MeshConfig {
  readonly rootNamespace: string;
  readonly trustDomain: string;
  readonly outboundTrafficPolicy: { readonly mode: 'ALLOW_ANY' | 'REGISTRY_ONLY' };
  readonly accessLogFile: string;
  readonly accessLogFormat: string;
  readonly accessLogEncoding: 'TEXT' | 'JSON';
  readonly enableTracing: boolean;
  readonly defaultConfig: {
    readonly tracing?: { readonly sampling?: number | undefined } | undefined;
    readonly proxyMetadata?: Readonly<Record<string, string>> | undefined;
    readonly [key: string]: unknown;
  };
  readonly extensionProviders: readonly ExtensionProvider[];
  readonly defaultProviders: {
    readonly tracing?: readonly string[] | undefined;
    readonly metrics?: readonly string[] | undefined;
    readonly accessLogging?: readonly string[] | undefined;
  };
  /** Connect timeout for outbound clusters when no DestinationRule sets one (Istio: 10s). */
  readonly connectTimeout: string;
  /**
   * Kubernetes: only namespaces whose labels match one of these selectors are taken into account
   * (their services and configuration); empty or absent: every namespace.
   */
  readonly discoverySelectors?: readonly LabelSelector[] | undefined;
  /** How long a sniffed port waits for the client's first bytes; '' or 0s: the proxy's default. */
  readonly protocolDetectionTimeout?: string | undefined;
}

export const DEFAULT_MESH_CONFIG: MeshConfig = {
  rootNamespace: 'istio-system',
  trustDomain: 'cluster.local',
  outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
  accessLogFile: '',
  accessLogFormat: '',
  accessLogEncoding: 'TEXT',
  enableTracing: false,
  defaultConfig: { tracing: { sampling: 1 } },
  extensionProviders: [],
  defaultProviders: {},
  connectTimeout: '10s',
};

export type MeshConfigResult = { ok: true; config: MeshConfig } | { ok: false; problems: string[] };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Merges a parsed MeshConfig document over Istio's defaults, checking the fields skeind reads. */
export function meshConfigFrom(doc: unknown): MeshConfigResult {
  if (doc === null || doc === undefined) return { ok: true, config: DEFAULT_MESH_CONFIG };
  if (!isRecord(doc)) return { ok: false, problems: ['mesh config: must be a mapping'] };
  const problems: string[] = [];
  const str = (key: string, fallback: string): string => {
    const v = doc[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'string') {
      problems.push(`mesh config: ${key}: must be a string`);
      return fallback;
    }
    return v;
  };
  const otp = doc['outboundTrafficPolicy'];
  let mode: 'ALLOW_ANY' | 'REGISTRY_ONLY' = 'ALLOW_ANY';
  if (otp !== undefined) {
    const m = isRecord(otp) ? otp['mode'] : undefined;
    if (m === 'ALLOW_ANY' || m === 'REGISTRY_ONLY' || m === undefined) mode = m ?? 'ALLOW_ANY';
    else problems.push(`mesh config: outboundTrafficPolicy.mode: must be ALLOW_ANY or REGISTRY_ONLY`);
  }
  const encoding = str('accessLogEncoding', 'TEXT');
  if (encoding !== 'TEXT' && encoding !== 'JSON')
    problems.push('mesh config: accessLogEncoding: must be TEXT or JSON');
  const enableTracing = doc['enableTracing'];
  if (enableTracing !== undefined && typeof enableTracing !== 'boolean')
    problems.push('mesh config: enableTracing: must be a boolean');
  const defaultConfig = doc['defaultConfig'] ?? {};
  if (!isRecord(defaultConfig)) problems.push('mesh config: defaultConfig: must be a mapping');
  const providers = doc['extensionProviders'] ?? [];
  const extensionProviders: ExtensionProvider[] = [];
  if (!Array.isArray(providers)) problems.push('mesh config: extensionProviders: must be a list');
  else
    providers.forEach((p, i) => {
      if (!isRecord(p) || typeof p['name'] !== 'string')
        problems.push(`mesh config: extensionProviders[${i}].name: required`);
      else extensionProviders.push(p as unknown as ExtensionProvider);
    });
  const defaultProviders = doc['defaultProviders'] ?? {};
  if (!isRecord(defaultProviders)) problems.push('mesh config: defaultProviders: must be a mapping');
  const detection = str('protocolDetectionTimeout', '');
  const selectors = doc['discoverySelectors'];
  if (selectors !== undefined && (!Array.isArray(selectors) || !selectors.every((x) => isRecord(x))))
    problems.push('mesh config: discoverySelectors: must be a list of label selectors');
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    config: {
      rootNamespace: str('rootNamespace', DEFAULT_MESH_CONFIG.rootNamespace),
      trustDomain: str('trustDomain', DEFAULT_MESH_CONFIG.trustDomain),
      outboundTrafficPolicy: { mode },
      accessLogFile: str('accessLogFile', ''),
      accessLogFormat: str('accessLogFormat', ''),
      accessLogEncoding: encoding as 'TEXT' | 'JSON',
      enableTracing: (enableTracing as boolean | undefined) ?? false,
      defaultConfig: { ...DEFAULT_MESH_CONFIG.defaultConfig, ...(defaultConfig as Record<string, unknown>) },
      extensionProviders,
      defaultProviders: defaultProviders as MeshConfig['defaultProviders'],
      connectTimeout: str('connectTimeout', DEFAULT_MESH_CONFIG.connectTimeout),
      ...(detection ? { protocolDetectionTimeout: detection } : {}),
      ...(Array.isArray(selectors) && selectors.length > 0
        ? { discoverySelectors: selectors as LabelSelector[] }
        : {}),
    },
  };
}
