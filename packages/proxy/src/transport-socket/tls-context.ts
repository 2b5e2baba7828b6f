// Downstream and upstream TLS contexts (envoy.transport_sockets.tls): certificates and trust from
// inline/file data sources, static secrets or SDS secrets by name; ALPN; client certificate
// requirement; subject-alt-name verification of the peer. A context rebuilds its SecureContext
// when one of its secrets changes (certificate rotation reaches new connections at once).
import tls from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import type { tlsV3, tlsCommonV3, tlsSecretV3 } from '@skein/api-types';
import { compileStringMatcher, type StringTest } from '../router/string-matcher.js';
import { dataSourceText, type SecretStore } from './secret-store.js';

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
}

export interface TlsContext {
  readonly kind: 'downstream' | 'upstream';
  /** The current SecureContext, or undefined while a secret is missing (warming). */
  secureContext(): tls.SecureContext | undefined;
  readonly alpn: string[];
  readonly requireClientCertificate: boolean;
  readonly sni: string | undefined;
  /** Secrets this context needs by name (for the SDS subscription). */
  readonly secretRefs: SecretRef[];
  /** Undefined when the peer is acceptable, else why not. */
  verifyPeer(cert: tls.PeerCertificate | X509Certificate | undefined): string | undefined;
  /** Whether the peer must present a certificate that chains to the trusted CA. */
  readonly verifies: boolean;
  close(): void;
}

function sdsCluster(cfg: tlsSecretV3.SdsSecretConfigJson): SecretRef {
  const cluster = cfg.sdsConfig?.apiConfigSource?.grpcServices?.[0]?.envoyGrpc?.clusterName;
  return { name: cfg.name ?? '', sdsCluster: cluster };
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
  if ((common.tlsCertificates ?? []).length > 1) throw new Error('only one tls_certificate is supported');

  let cached: tls.SecureContext | undefined;
  let dirty = true;
  const build = (): tls.SecureContext | undefined => {
    let cert: string | undefined;
    let key: string | undefined;
    const inline = common.tlsCertificates?.[0];
    if (inline) {
      cert = dataSourceText(inline.certificateChain);
      key = dataSourceText(inline.privateKey);
    } else if (certSds[0]) {
      const s = secrets.get(certSds[0].name);
      if (!s?.tlsCertificate) return undefined;
      cert = dataSourceText(s.tlsCertificate.certificateChain);
      key = dataSourceText(s.tlsCertificate.privateKey);
    }
    let ca = dataSourceText(staticValidation?.trustedCa);
    if (validationSds) {
      const s = secrets.get(validationSds.name ?? '');
      if (!s?.validationContext) return undefined;
      ca = dataSourceText(s.validationContext.trustedCa);
    }
    if (kind === 'downstream' && (!cert || !key)) return undefined;
    return tls.createSecureContext({
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(ca ? { ca } : {}),
      minVersion: 'TLSv1.2',
    });
  };
  const unsubscribe = secrets.onChange((name) => {
    if (refs.some((r) => r.name === name)) dirty = true;
  });
  const verifies = staticValidation?.trustedCa !== undefined || validationSds !== undefined;
  return {
    kind,
    secureContext() {
      if (dirty) {
        const next = build();
        if (next) {
          cached = next;
          dirty = false;
        }
      }
      return cached;
    },
    alpn: common.alpnProtocols ?? [],
    requireClientCertificate: kind === 'downstream' && down.requireClientCertificate === true,
    sni: kind === 'upstream' ? up.sni : undefined,
    secretRefs: refs,
    verifies,
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
