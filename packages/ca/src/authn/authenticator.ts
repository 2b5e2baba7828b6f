// Who is asking for a certificate: the CSR service's caller authentication. Authenticators are
// tried in order; the first to recognise the caller decides its SPIFFE identity.
import { X509Certificate } from 'node:crypto';
import { parseSpiffeId, spiffeId } from '../pki/spiffe.js';

/** What the CA knows about a call: its gRPC metadata and the TLS client certificate, if any (unverified). */
export interface CallCredentials {
  /** Lower-case gRPC metadata keys (authorization, clusterid, ...). */
  metadata: Record<string, string | undefined>;
  /** DER of the client certificate presented on the TLS connection, not yet verified. */
  peerCertificateDer?: Buffer;
}

export interface Caller {
  /** spiffe://<td>/ns/<ns>/sa/<sa> */
  identity: string;
  /** Which authenticator recognised the caller. */
  method: string;
}

export interface Authenticator {
  readonly name: string;
  /** The caller's identity, undefined when this authenticator does not apply, or throws when it applies and fails. */
  authenticate(creds: CallCredentials): Promise<Caller | undefined>;
}

/** The bearer token of the `authorization` metadata, if any. */
export function bearerToken(creds: CallCredentials): string | undefined {
  const h = creds.metadata['authorization'];
  const m = h ? /^Bearer\s+(.+)$/i.exec(h.trim()) : null;
  return m?.[1];
}

/** Runs authenticators in order; refuses the call when none recognises it. */
export async function authenticate(authenticators: Authenticator[], creds: CallCredentials): Promise<Caller> {
  const reasons: string[] = [];
  for (const a of authenticators) {
    try {
      const caller = await a.authenticate(creds);
      if (caller) return caller;
    } catch (e) {
      reasons.push(`${a.name}: ${(e as Error).message}`);
    }
  }
  throw new Error(
    reasons.length > 0
      ? `authentication failed (${reasons.join('; ')})`
      : `no credentials: send a bearer token or a mesh client certificate (tried ${authenticators.map((a) => a.name).join(', ')})`,
  );
}

/**
 * Directory mode: per-workload bootstrap tokens. Each token maps to one namespace and service
 * account; a caller presenting it gets that identity.
 */
export class BootstrapTokenAuthenticator implements Authenticator {
  readonly name = 'bootstrap-token';
  constructor(
    private readonly tokens: ReadonlyMap<string, { namespace: string; serviceAccount: string }>,
    private readonly trustDomain: string,
  ) {}

  /** Parses a tokens file: one `<token> <namespace> <service-account>` per line, `#` comments. */
  static parse(text: string, trustDomain: string): BootstrapTokenAuthenticator {
    const tokens = new Map<string, { namespace: string; serviceAccount: string }>();
    text.split('\n').forEach((line, i) => {
      const t = line.replace(/#.*/, '').trim();
      if (!t) return;
      const parts = t.split(/\s+/);
      if (parts.length !== 3)
        throw new Error(`tokens file line ${i + 1}: expected "<token> <namespace> <service-account>"`);
      tokens.set(parts[0]!, { namespace: parts[1]!, serviceAccount: parts[2]! });
    });
    return new BootstrapTokenAuthenticator(tokens, trustDomain);
  }

  async authenticate(creds: CallCredentials): Promise<Caller | undefined> {
    const token = bearerToken(creds);
    if (!token) return undefined;
    const id = this.tokens.get(token);
    if (!id) return undefined;
    return { identity: spiffeId({ trustDomain: this.trustDomain, ...id }), method: this.name };
  }
}

/**
 * Renewal: a caller presenting a valid mesh certificate issued by this CA (signed by its signing
 * certificate, within its validity) is the identity in its SPIFFE URI SAN.
 */
export class MeshCertificateAuthenticator implements Authenticator {
  readonly name = 'mesh-certificate';
  private readonly issuers: () => readonly string[];
  /**
   * `signingCertPem`: the CA's signing certificate, or a function giving every certificate whose
   * mesh certificates still renew (during a root rotation: the current and the previous signer).
   */
  constructor(
    signingCertPem: string | (() => readonly string[]),
    private readonly trustDomain: string,
    private readonly now: () => number = Date.now,
  ) {
    if (typeof signingCertPem === 'string') {
      new X509Certificate(signingCertPem);
      this.issuers = () => [signingCertPem];
    } else this.issuers = signingCertPem;
  }

  async authenticate(creds: CallCredentials): Promise<Caller | undefined> {
    if (!creds.peerCertificateDer) return undefined;
    const cert = new X509Certificate(creds.peerCertificateDer);
    if (!this.issuers().some((pem) => cert.verify(new X509Certificate(pem).publicKey)))
      throw new Error('client certificate is not issued by this CA');
    const t = this.now();
    if (t < Date.parse(cert.validFrom) || t > Date.parse(cert.validTo))
      throw new Error('client certificate expired');
    const uris = (cert.subjectAltName ?? '')
      .split(', ')
      .filter((s) => s.startsWith('URI:'))
      .map((s) => s.slice(4));
    const id = uris.map(parseSpiffeId).find((x) => x !== undefined);
    if (!id || uris.length !== 1) throw new Error('client certificate carries no single SPIFFE identity');
    if (id.trustDomain !== this.trustDomain)
      throw new Error(`client certificate trust domain ${id.trustDomain} is not ${this.trustDomain}`);
    return { identity: uris[0]!, method: this.name };
  }
}
