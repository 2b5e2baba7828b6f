// The x-forwarded-client-cert (XFCC) header of Envoy's HTTP connection manager: what
// forward_client_cert_details does with an incoming one, and the element set_current_client_cert_details
// adds for a mutual-TLS client — built once per connection from its verified certificate, then
// reused by every request on it (Istio's sidecar inbound uses APPEND_FORWARD with Subject, URI, DNS).
import type tls from 'node:tls';
import { nodeCrypto } from '../util/node-builtins.js';

export const XFCC_HEADER = 'x-forwarded-client-cert';

export type ForwardClientCertDetails =
  'SANITIZE' | 'FORWARD_ONLY' | 'APPEND_FORWARD' | 'SANITIZE_SET' | 'ALWAYS_FORWARD_ONLY';

/** set_current_client_cert_details: which fields of the client certificate the element carries. */
export interface CertDetailsFields {
  subject?: boolean | null | undefined;
  cert?: boolean | undefined;
  chain?: boolean | undefined;
  dns?: boolean | undefined;
  uri?: boolean | undefined;
}

/** A mutual-TLS connection's certificates, kept on the connection; the element is built on first use. */
export interface ClientCertInfo {
  peer: tls.PeerCertificate;
  /** The proxy's own certificate on this connection (its URI SANs are XFCC's `By`), read on first use. */
  local: () => tls.PeerCertificate | null;
  element?: { fields: CertDetailsFields | undefined; value: string };
}

function sans(cert: tls.PeerCertificate | null, type: 'URI' | 'DNS'): string[] {
  const alt = cert?.subjectaltname;
  if (!alt) return [];
  const out: string[] = [];
  for (const e of alt.split(', ')) if (e.startsWith(`${type}:`)) out.push(e.slice(type.length + 1));
  return out;
}

function pem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

/** A quoted XFCC value (Subject, Cert, Chain): double quotes inside are escaped. */
const quoted = (v: string): string => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * The XFCC element for a client certificate, in Envoy's order: By (each local URI SAN), Hash (hex
 * SHA-256 of the DER), then Cert, Chain, Subject (RFC 2253), URI and DNS as configured.
 */
export function clientCertElement(info: ClientCertInfo, fields: CertDetailsFields | undefined): string {
  const cached = info.element;
  if (cached && cached.fields === fields) return cached.value;
  const parts: string[] = [];
  for (const u of sans(info.local(), 'URI')) parts.push(`By=${u}`);
  const raw = info.peer.raw;
  parts.push(`Hash=${nodeCrypto.createHash('sha256').update(raw).digest('hex')}`);
  if (fields?.cert) parts.push(`Cert=${quoted(encodeURIComponent(pem(raw)))}`);
  // Only the leaf is kept of the peer's chain: Chain carries it alone.
  if (fields?.chain) parts.push(`Chain=${quoted(encodeURIComponent(pem(raw)))}`);
  if (fields?.subject) {
    const dn = new nodeCrypto.X509Certificate(raw).subject.split('\n').reverse().join(',');
    parts.push(`Subject=${quoted(dn)}`);
  }
  if (fields?.uri) for (const u of sans(info.peer, 'URI')) parts.push(`URI=${u}`);
  if (fields?.dns) for (const d of sans(info.peer, 'DNS')) parts.push(`DNS=${d}`);
  const value = parts.join(';');
  info.element = { fields, value };
  return value;
}

/**
 * Applies forward_client_cert_details (default SANITIZE) to a request's headers: `cert` is the
 * connection's client certificate when it is mutual TLS.
 */
export function applyClientCertDetails(
  headers: Record<string, string>,
  mode: ForwardClientCertDetails | undefined,
  fields: CertDetailsFields | undefined,
  cert: ClientCertInfo | undefined,
): void {
  if (mode === 'ALWAYS_FORWARD_ONLY') return;
  if (!cert || mode === undefined || mode === 'SANITIZE') {
    if (headers[XFCC_HEADER] !== undefined) delete headers[XFCC_HEADER];
    return;
  }
  if (mode === 'FORWARD_ONLY') return;
  const element = clientCertElement(cert, fields);
  const prior = headers[XFCC_HEADER];
  headers[XFCC_HEADER] = mode === 'APPEND_FORWARD' && prior ? `${prior},${element}` : element;
}
