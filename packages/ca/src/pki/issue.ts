// Issuing leaf certificates from CSRs: workload certificates (one SPIFFE URI SAN) and serving
// certificates (DNS/IP SANs), with TTL default, maximum and clock-skew allowance.
import type { webcrypto } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import { importPrivateKeyPem, signingAlgorithm, type KeyPair } from './keys.js';
import { randomSerial, verifyMaterial, type CaMaterial } from './ca-material.js';
import { splitPem, trustBundlePem } from './pem.js';
import { parseCsr } from './csr.js';
import { x509 } from './x509.js';

export interface IssuePolicy {
  /** Default TTL when the request gives none; default 24 h. */
  defaultTtlSeconds?: number;
  /** Requests above this are refused; default 90 days (Istio's). */
  maxTtlSeconds?: number;
  /** notBefore is backdated by this much; default 60 s. */
  clockSkewSeconds?: number;
  /** Clock in milliseconds since the epoch; default Date.now. */
  now?: () => number;
}

/** A request the CA refuses: the message is what the caller sees. */
export class CertificateRequestError extends Error {
  constructor(
    message: string,
    readonly kind: 'invalid' | 'denied',
  ) {
    super(message);
  }
}

export interface IssuedCertificate {
  /**
   * [leaf, ...intermediates, root] as Istio's CreateCertificate returns it; the last element is
   * the trust bundle (several roots concatenated during a root rotation, as Istio's root-cert.pem).
   */
  certChain: string[];
  notAfter: Date;
}

export interface SanSet {
  uris?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

/**
 * The signing half of the CA: material plus policy, no I/O. Its trust bundle is the signing root
 * plus any other roots still trusted (a root rotation's overlap: the next root before the switch,
 * the previous one after it); `update` swaps both at once, and issued chains end with the bundle.
 */
export class CertificateAuthority {
  private readonly changes = new Set<() => void>();
  private constructor(
    private current: CaMaterial,
    private keys: KeyPair,
    private caCert: x509.X509Certificate,
    private extraRoots: string[],
    private readonly policy: Required<IssuePolicy>,
  ) {}

  static async create(
    material: CaMaterial,
    policy: IssuePolicy = {},
    extraRoots: readonly string[] = [],
  ): Promise<CertificateAuthority> {
    const keys = await importPrivateKeyPem(material.caKeyPem);
    return new CertificateAuthority(
      material,
      keys,
      new x509.X509Certificate(material.caCertPem),
      [...extraRoots],
      {
        defaultTtlSeconds: policy.defaultTtlSeconds ?? 86400,
        maxTtlSeconds: policy.maxTtlSeconds ?? 90 * 86400,
        clockSkewSeconds: policy.clockSkewSeconds ?? 60,
        now: policy.now ?? Date.now,
      },
    );
  }

  get material(): CaMaterial {
    return this.current;
  }

  /** The trust bundle: the signing root first, then the other trusted roots (one PEM string). */
  get rootCertPem(): string {
    return trustBundlePem([
      this.current.rootCertPem,
      ...(this.current.otherRootPems ?? []),
      ...this.extraRoots,
    ]);
  }

  /** Every trusted root, one PEM each (the signing root first). */
  get trustedRoots(): string[] {
    return splitPem(this.rootCertPem);
  }

  /**
   * Switches the signing material and the other trusted roots together (a root rotation step);
   * listeners (onChange) hear of it after the switch.
   */
  async update(material: CaMaterial, extraRoots: readonly string[] = []): Promise<void> {
    verifyMaterial(material);
    const keys = await importPrivateKeyPem(material.caKeyPem);
    this.current = material;
    this.keys = keys;
    this.caCert = new x509.X509Certificate(material.caCertPem);
    this.extraRoots = [...extraRoots];
    for (const l of [...this.changes]) l();
  }

  onChange(listener: () => void): () => void {
    this.changes.add(listener);
    return () => this.changes.delete(listener);
  }

  /**
   * Signs a workload CSR for the authenticated caller's identity. The CSR may name no URI SAN or
   * exactly the caller's; anything else is refused. The certificate's only URI SAN is `identity`.
   */
  async signWorkloadCsr(csrPem: string, identity: string, ttlSeconds?: number): Promise<IssuedCertificate> {
    let parsed;
    try {
      parsed = await parseCsr(csrPem);
    } catch (e) {
      throw new CertificateRequestError((e as Error).message, 'invalid');
    }
    const foreign = parsed.uris.filter((u) => u !== identity);
    if (foreign.length > 0) {
      throw new CertificateRequestError(
        `CSR asks for identity ${foreign.join(', ')} but the caller is authenticated as ${identity}`,
        'denied',
      );
    }
    return this.issue(await parsed.csr.publicKey.export(), { uris: [identity] }, ttlSeconds, false);
  }

  /** Signs a serving certificate (DNS/IP SANs) for a public key; used for the CA's and skeind's own endpoints. */
  async issueServing(
    publicKey: webcrypto.CryptoKey,
    sans: SanSet,
    ttlSeconds?: number,
  ): Promise<IssuedCertificate> {
    return this.issue(publicKey, sans, ttlSeconds, true);
  }

  private async issue(
    publicKey: webcrypto.CryptoKey,
    sans: SanSet,
    ttlSeconds: number | undefined,
    serverOnly: boolean,
  ): Promise<IssuedCertificate> {
    const ttl = ttlSeconds && ttlSeconds > 0 ? ttlSeconds : this.policy.defaultTtlSeconds;
    if (ttl > this.policy.maxTtlSeconds) {
      throw new CertificateRequestError(
        `requested TTL ${ttl}s is greater than the max allowed TTL ${this.policy.maxTtlSeconds}s`,
        'invalid',
      );
    }
    const now = this.policy.now();
    const caNotAfter = this.caCert.notAfter.getTime();
    const notAfter = new Date(Math.min(now + ttl * 1000, caNotAfter));
    const names: x509.JsonGeneralName[] = [
      ...(sans.uris ?? []).map((value) => ({ type: 'url' as const, value })),
      ...(sans.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(sans.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: serverOnly ? `CN=${sans.dnsNames?.[0] ?? sans.ipAddresses?.[0] ?? 'skein'}` : '',
      issuer: this.caCert.subject,
      notBefore: new Date(now - this.policy.clockSkewSeconds * 1000),
      notAfter,
      signingAlgorithm: signingAlgorithm(this.keys.algorithm),
      publicKey,
      signingKey: this.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(this.caCert),
        new x509.SubjectAlternativeNameExtension(names, !serverOnly),
      ],
    });
    const leaf = cert.toString('pem') + '\n';
    return {
      certChain: [leaf, ...this.current.chainPems, this.rootCertPem],
      notAfter,
    };
  }
}

/** The URI SANs of a PEM certificate (node:crypto's parser). */
export function certificateUris(pem: string): string[] {
  const san = new X509Certificate(pem).subjectAltName ?? '';
  return san
    .split(', ')
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
}
