// Envoy TLS contexts + SDS secrets → node:tls options: how a Node proxy (and our tests) realise
// DownstreamTlsContext / UpstreamTlsContext, including SPIFFE SAN verification.
import type { X509Certificate } from 'node:crypto';
import type { ConnectionOptions, PeerCertificate, TLSSocket, TlsOptions } from 'node:tls';
import type { tlsV3 } from '@skein/api-types';

/** An Envoy Secret in canonical JSON (what SDS delivers). */
export interface SecretJson {
  name?: string;
  tlsCertificate?: { certificateChain?: DataSourceJson; privateKey?: DataSourceJson };
  validationContext?: { trustedCa?: DataSourceJson };
}
export interface DataSourceJson {
  inlineBytes?: string;
  inlineString?: string;
  filename?: string;
}
export type SecretLookup = (name: string) => SecretJson | undefined;

function data(ds: DataSourceJson | undefined, what: string): string {
  if (ds?.inlineBytes !== undefined) return Buffer.from(ds.inlineBytes, 'base64').toString();
  if (ds?.inlineString !== undefined) return ds.inlineString;
  throw new Error(`${what}: only inline data sources are supported`);
}

type Common = tlsV3.CommonTlsContextJson;

function identity(c: Common | undefined, secrets: SecretLookup): { key: string; cert: string } | undefined {
  const inline = c?.tlsCertificates?.[0];
  if (inline)
    return {
      key: data(inline.privateKey, 'private_key'),
      cert: data(inline.certificateChain, 'certificate_chain'),
    };
  const name = c?.tlsCertificateSdsSecretConfigs?.[0]?.name;
  if (!name) return undefined;
  const s = secrets(name)?.tlsCertificate;
  if (!s) throw new Error(`secret ${name} is not available yet`);
  return { key: data(s.privateKey, `${name} private key`), cert: data(s.certificateChain, `${name} chain`) };
}

function trustedCa(c: Common | undefined, secrets: SecretLookup): string | undefined {
  const inline = c?.validationContext?.trustedCa;
  if (inline) return data(inline, 'trusted_ca');
  const name =
    c?.combinedValidationContext?.validationContextSdsSecretConfig?.name ??
    c?.validationContextSdsSecretConfig?.name;
  if (!name) return undefined;
  const s = secrets(name)?.validationContext?.trustedCa;
  if (!s) throw new Error(`secret ${name} is not available yet`);
  return data(s, `${name} trusted CA`);
}

type StringMatcherJson = {
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  ignoreCase?: boolean;
};

function sanMatchers(c: Common | undefined): { sanType?: string; matcher?: StringMatcherJson }[] {
  return (
    c?.combinedValidationContext?.defaultValidationContext?.matchTypedSubjectAltNames ??
    c?.validationContext?.matchTypedSubjectAltNames ??
    []
  );
}

function matches(m: StringMatcherJson, v: string): boolean {
  const [val, s] = m.ignoreCase ? [v.toLowerCase(), (x: string) => x.toLowerCase()] : [v, (x: string) => x];
  if (m.exact !== undefined) return val === s(m.exact);
  if (m.prefix !== undefined) return val.startsWith(s(m.prefix));
  if (m.suffix !== undefined) return val.endsWith(s(m.suffix));
  if (m.contains !== undefined) return val.includes(s(m.contains));
  return false;
}

/** The SANs of a peer certificate by type (URI, DNS, IP_ADDRESS). */
function sans(altNames: string | undefined): { type: string; value: string }[] {
  return (altNames ?? '')
    .split(', ')
    .filter(Boolean)
    .map((e) => {
      const i = e.indexOf(':');
      const t = e.slice(0, i);
      return { type: t === 'IP Address' ? 'IP_ADDRESS' : t, value: e.slice(i + 1) };
    });
}

/** Undefined when the peer's SANs satisfy the context's SAN matchers (any one), else the reason. */
export function checkPeerSans(c: Common | undefined, altNames: string | undefined): string | undefined {
  const ms = sanMatchers(c);
  if (ms.length === 0) return undefined;
  const have = sans(altNames);
  const ok = ms.some((m) =>
    have.some((h) => (m.sanType ?? 'URI') === h.type && m.matcher && matches(m.matcher, h.value)),
  );
  return ok
    ? undefined
    : `peer identity ${altNames ?? '(none)'} does not match the expected subject alt names`;
}

/** node:tls server options for a DownstreamTlsContext. Check checkPeerSans on each connection too. */
export function tlsServerOptions(ctx: tlsV3.DownstreamTlsContextJson, secrets: SecretLookup): TlsOptions {
  const c = ctx.commonTlsContext;
  const id = identity(c, secrets);
  if (!id) throw new Error('downstream TLS context has no certificate');
  const ca = trustedCa(c, secrets);
  const requireClient = ctx.requireClientCertificate === true;
  return {
    key: id.key,
    cert: id.cert,
    ...(ca ? { ca } : {}),
    requestCert: requireClient || ca !== undefined,
    rejectUnauthorized: requireClient,
    ...(c?.alpnProtocols ? { ALPNProtocols: c.alpnProtocols } : {}),
    minVersion: c?.tlsParams?.tlsMinimumProtocolVersion === 'TLSv1_3' ? 'TLSv1.3' : 'TLSv1.2',
  };
}

/** node:tls client options for an UpstreamTlsContext (SNI, client certificate, CA, SAN check). */
export function tlsClientOptions(
  ctx: tlsV3.UpstreamTlsContextJson,
  secrets: SecretLookup,
): ConnectionOptions {
  const c = ctx.commonTlsContext;
  const id = identity(c, secrets);
  const ca = trustedCa(c, secrets);
  return {
    ...(id ? { key: id.key, cert: id.cert } : {}),
    ...(ca ? { ca } : {}),
    ...(ctx.sni ? { servername: ctx.sni } : {}),
    ...(c?.alpnProtocols ? { ALPNProtocols: c.alpnProtocols } : {}),
    rejectUnauthorized: ca !== undefined,
    minVersion: c?.tlsParams?.tlsMinimumProtocolVersion === 'TLSv1_3' ? 'TLSv1.3' : 'TLSv1.2',
    // Mesh identities are SPIFFE URIs, not host names: verify the SAN matchers instead.
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const err = sanMatchers(c).length > 0 ? checkPeerSans(c, cert.subjectaltname) : undefined;
      return err ? new Error(err) : undefined;
    },
  };
}

/** The SPIFFE URI of a verified peer certificate (for source_principal), if any. */
export function peerPrincipal(cert: X509Certificate | PeerCertificate | undefined): string | undefined {
  const alt =
    cert === undefined
      ? undefined
      : 'raw' in cert && 'subjectaltname' in cert
        ? cert.subjectaltname
        : (cert as X509Certificate).subjectAltName;
  return sans(alt).find((s) => s.type === 'URI' && s.value.startsWith('spiffe://'))?.value;
}

/**
 * Whether a server-side TLS connection may proceed under a DownstreamTlsContext: the client chain
 * verified (when a client certificate is required) and its SANs matching. Use it on sockets from a
 * tls.Server (hand a raw or replayed socket to `server.emit('connection', s)`): a TLSSocket made
 * directly never computes `authorized`.
 */
export function acceptPeer(socket: TLSSocket, ctx: tlsV3.DownstreamTlsContextJson): string | undefined {
  const cert = socket.getPeerX509Certificate();
  if (ctx.requireClientCertificate === true) {
    if (!cert) return 'client certificate required';
    if (!socket.authorized) return `client certificate rejected: ${String(socket.authorizationError)}`;
  }
  return checkPeerSans(ctx.commonTlsContext, cert?.subjectAltName);
}
