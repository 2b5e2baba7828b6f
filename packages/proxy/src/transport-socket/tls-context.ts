// Downstream and upstream TLS contexts (envoy.transport_sockets.tls): certificates and trust from
// inline/file data sources, static secrets or SDS secrets by name; several certificates per
// context (chosen by SNI, then by key type as the client's signature algorithms allow); ALPN;
// client certificate requirement; tls_params' protocol versions; subject-alt-name verification of
// the peer; session resumption (a session id context on server contexts, a session cache on client
// ones). A context rebuilds its SecureContext when one of its secrets changes (rotation reaches new
// connections at once).
import type tls from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { nodeCrypto, nodeTls } from '../util/node-builtins.js';
import { certificateFor, type CertPair } from './certificate-selection.js';
import type { tlsV3, tlsCommonV3, tlsSecretV3 } from '@skein/api-types';
import { compileStringMatcher, type StringTest } from '../router/string-matcher.js';
import { dataSourceText, type SecretStore } from './secret-store.js';
import { TlsSessionCache } from './tls-session-cache.js';
import { protocolRange } from './tls-params.js';

export const DOWNSTREAM_TLS =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const UPSTREAM_TLS =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

type Common = tlsV3.CommonTlsContextJson;
type Validation = tlsCommonV3.CertificateValidationContextJson;

/** One SDS (or static) secret reference: its name and the config source to fetch it from. */
export interface SecretRef {
  name: string;
  /** The gRPC cluster serving it over SDS; undefined when it must be static or come over ADS. */
  sdsCluster: string | undefined;
  /** `sds_config: { ads: {} }`: requested on the ADS stream (as istiod serves gateway credentials). */
  ads?: boolean;
}

export interface TlsContext {
  readonly kind: 'downstream' | 'upstream';
  /** The current SecureContext, or undefined while a secret is missing (warming). */
  secureContext(): tls.SecureContext | undefined;
  /** How many certificates the context has now (0 while warming). */
  readonly certificateCount: number;
  /** The SecureContext for a ClientHello's server name (its certificates, by SNI). */
  secureContextFor(serverName: string | undefined): tls.SecureContext | undefined;
  readonly alpn: string[];
  readonly requireClientCertificate: boolean;
  readonly sni: string | undefined;
  /** Secrets this context needs by name (for the SDS subscription). */
  readonly secretRefs: SecretRef[];
  /** Undefined when the peer is acceptable, else why not. */
  verifyPeer(cert: tls.PeerCertificate | X509Certificate | undefined): string | undefined;
  /** Whether the peer must present a certificate that chains to the trusted CA. */
  readonly verifies: boolean;
  /** Upstream sessions kept for resumption (one per server); undefined on server contexts. */
  readonly sessions: TlsSessionCache | undefined;
  close(): void;
}

function sdsCluster(cfg: tlsSecretV3.SdsSecretConfigJson): SecretRef {
  const cluster = cfg.sdsConfig?.apiConfigSource?.grpcServices?.[0]?.envoyGrpc?.clusterName;
  return { name: cfg.name ?? '', sdsCluster: cluster };
}

function certPair(cert: string, key: string): CertPair {
  const x = new nodeCrypto.X509Certificate(cert);
  const dns = (x.subjectAltName ?? '')
    .split(', ')
    .filter((e) => e.startsWith('DNS:'))
    .map((e) => e.slice(4).toLowerCase());
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x.subject)?.[1];
  return {
    cert,
    key,
    names: dns.length > 0 ? dns : cn ? [cn.toLowerCase()] : [],
    keyType: x.publicKey.asymmetricKeyType ?? '',
  };
}

/** URI, DNS, email and IP SANs of a peer certificate as [type, value] pairs. */
function peerSans(cert: tls.PeerCertificate | undefined): [string, string][] {
  const alt = cert?.subjectaltname;
  if (!alt) return [];
  return alt.split(', ').map((e) => {
    const i = e.indexOf(':');
    return [e.slice(0, i), e.slice(i + 1)] as [string, string];
  });
}

/** The first URI SAN of a peer certificate (its SPIFFE identity in a mesh). */
export function peerUri(cert: tls.PeerCertificate | undefined): string | undefined {
  return peerSans(cert).find(([t]) => t === 'URI')?.[1];
}

interface SanRule {
  type: string | undefined;
  test: StringTest;
}

function sanRules(v: Validation | undefined): SanRule[] {
  const rules: SanRule[] = [];
  for (const m of v?.matchTypedSubjectAltNames ?? []) {
    if (!m.matcher) continue;
    const type =
      m.sanType === 'URI'
        ? 'URI'
        : m.sanType === 'DNS'
          ? 'DNS'
          : m.sanType === 'EMAIL'
            ? 'email'
            : m.sanType === 'IP_ADDRESS'
              ? 'IP Address'
              : undefined;
    rules.push({ type, test: compileStringMatcher(m.matcher) });
  }
  for (const m of v?.matchSubjectAltNames ?? [])
    rules.push({ type: undefined, test: compileStringMatcher(m) });
  return rules;
}

/**
 * A server context's session id context: what a resumed session must have been verified against
 * (its certificates, trust and verification settings), at most 32 bytes as OpenSSL requires.
 */
function sessionIdContext(
  pairs: readonly CertPair[],
  ca: string | undefined,
  json: tlsV3.DownstreamTlsContextJson | tlsV3.UpstreamTlsContextJson,
): string {
  const h = nodeCrypto.createHash('sha256');
  for (const p of pairs) h.update(p.cert);
  h.update(ca ?? '');
  h.update(JSON.stringify(json.commonTlsContext?.validationContext ?? null));
  h.update(
    JSON.stringify(json.commonTlsContext?.combinedValidationContext?.defaultValidationContext ?? null),
  );
  h.update(String((json as tlsV3.DownstreamTlsContextJson).requireClientCertificate ?? false));
  return h.digest('hex').slice(0, 32);
}

export function compileTlsContext(
  json: tlsV3.DownstreamTlsContextJson | tlsV3.UpstreamTlsContextJson,
  kind: 'downstream' | 'upstream',
  secrets: SecretStore,
): TlsContext {
  const common: Common = json.commonTlsContext ?? {};
  const down = json as tlsV3.DownstreamTlsContextJson;
  const up = json as tlsV3.UpstreamTlsContextJson;
  const refs: SecretRef[] = [];
  const certSds = (common.tlsCertificateSdsSecretConfigs ?? []).map(sdsCluster);
  refs.push(...certSds);
  const combined = common.combinedValidationContext;
  const validationSds = common.validationContextSdsSecretConfig ?? combined?.validationContextSdsSecretConfig;
  if (validationSds) refs.push(sdsCluster(validationSds));
  const staticValidation: Validation | undefined =
    common.validationContext ?? combined?.defaultValidationContext;
  const rules = sanRules(staticValidation);
  // tls_params' protocol versions (checked here, so that a bad range rejects the config).
  const versions = protocolRange(common.tlsParams);

  /** Every certificate of the context (inline ones, then SDS ones), or undefined while one is missing. */
  const certificates = (): CertPair[] | undefined => {
    const out: CertPair[] = [];
    const add = (cert: string | undefined, key: string | undefined): void => {
      if (cert && key) out.push(certPair(cert, key));
    };
    for (const c of common.tlsCertificates ?? [])
      add(dataSourceText(c.certificateChain), dataSourceText(c.privateKey));
    for (const ref of certSds) {
      const s = secrets.get(ref.name);
      if (!s?.tlsCertificate) return undefined;
      add(dataSourceText(s.tlsCertificate.certificateChain), dataSourceText(s.tlsCertificate.privateKey));
    }
    return out;
  };

  interface Built {
    pairs: CertPair[];
    ca: string | undefined;
    byName: Map<string, tls.SecureContext>;
    all: tls.SecureContext;
  }
  const contextOf = (pairs: readonly CertPair[], ca: string | undefined): tls.SecureContext =>
    nodeTls.createSecureContext({
      ...(pairs.length > 0 ? { cert: pairs.map((p) => p.cert), key: pairs.map((p) => p.key) } : {}),
      ...(ca ? { ca } : {}),
      ...versions,
      // A server that asks for client certificates must name its session id context, or OpenSSL
      // fails every handshake in which a client offers a session to resume ("session id context
      // uninitialized"): Envoy sidecars, nginx and skein clients all do on reconnect.
      ...(kind === 'downstream' ? { sessionIdContext: sessionIdContext(pairs, ca, json) } : {}),
    });
  let cached: Built | undefined;
  let dirty = true;
  const build = (): Built | undefined => {
    const pairs = certificates();
    if (!pairs) return undefined;
    let ca = dataSourceText(staticValidation?.trustedCa);
    if (validationSds) {
      const s = secrets.get(validationSds.name ?? '');
      if (!s?.validationContext) return undefined;
      ca = dataSourceText(s.validationContext.trustedCa);
    }
    if (kind === 'downstream' && pairs.length === 0) return undefined;
    return { pairs, ca, byName: new Map(), all: contextOf(certificateFor(pairs, undefined), ca) };
  };
  const current = (): Built | undefined => {
    if (dirty) {
      const next = build();
      if (next) {
        cached = next;
        dirty = false;
      }
    }
    return cached;
  };
  const unsubscribe = secrets.onChange((name) => {
    if (refs.some((r) => r.name === name)) dirty = true;
  });
  const verifies = staticValidation?.trustedCa !== undefined || validationSds !== undefined;
  return {
    kind,
    secureContext() {
      return current()?.all;
    },
    get certificateCount() {
      return current()?.pairs.length ?? 0;
    },
    secureContextFor(serverName) {
      const b = current();
      if (!b || !serverName || b.pairs.length < 2) return b?.all;
      let ctx = b.byName.get(serverName);
      if (!ctx) {
        ctx = contextOf(certificateFor(b.pairs, serverName), b.ca);
        b.byName.set(serverName, ctx);
      }
      return ctx;
    },
    alpn: common.alpnProtocols ?? [],
    requireClientCertificate: kind === 'downstream' && down.requireClientCertificate === true,
    sni: kind === 'upstream' ? up.sni : undefined,
    secretRefs: refs,
    verifies,
    // Envoy's default `max_session_keys` (1); other values are reported as unsupported at load.
    sessions: kind === 'upstream' ? new TlsSessionCache(1) : undefined,
    verifyPeer(cert) {
      if (rules.length === 0) return undefined;
      const sans = peerSans(cert as tls.PeerCertificate | undefined);
      for (const r of rules) {
        if (sans.some(([t, v]) => (r.type === undefined || t === r.type) && r.test(v))) return undefined;
      }
      return `peer certificate SANs [${sans.map(([t, v]) => `${t}:${v}`).join(', ')}] match no configured subject alt name`;
    },
    close: unsubscribe,
  };
}
