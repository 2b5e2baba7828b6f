// Rotation of a gRPC server's own serving certificate (skeind's 15012, the standalone CA): the
// certificate is reissued by the mesh CA at half its lifetime and handed to grpc-js, which swaps
// the TLS context for new handshakes; established connections and their streams are untouched.
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { CertificateAuthority } from '../pki/issue.js';
import {
  issueServingCertificate,
  type ServingCertificate,
  type ServingIdentity,
} from './serving-credentials.js';

type IdentityUpdate = { certificate: Buffer; privateKey: Buffer } | null;
type CaUpdate = { caCertificate: Buffer } | null;

/** A certificate provider whose identity can be replaced; grpc-js re-reads it on every update. */
class RotatingProvider implements grpc.experimental.CertificateProvider {
  private readonly identityListeners = new Set<(u: IdentityUpdate) => void>();
  private readonly caListeners = new Set<(u: CaUpdate) => void>();
  constructor(
    private ca: Buffer,
    private identity: IdentityUpdate,
  ) {}
  /** A new trust bundle for client certificates (a root rotation step). */
  setCa(ca: Buffer): void {
    this.ca = ca;
    for (const l of this.caListeners) l({ caCertificate: ca });
  }
  set(identity: IdentityUpdate): void {
    this.identity = identity;
    for (const l of this.identityListeners) l(identity);
  }
  addCaCertificateListener(l: (u: CaUpdate) => void): void {
    this.caListeners.add(l);
    // Asynchronously: grpc-js registers its watcher only after adding the listener.
    queueMicrotask(() => l({ caCertificate: this.ca }));
  }
  removeCaCertificateListener(l: (u: CaUpdate) => void): void {
    this.caListeners.delete(l);
  }
  addIdentityCertificateListener(l: (u: IdentityUpdate) => void): void {
    this.identityListeners.add(l);
    queueMicrotask(() => l(this.identity));
  }
  removeIdentityCertificateListener(l: (u: IdentityUpdate) => void): void {
    this.identityListeners.delete(l);
  }
}

export interface RotatingServing {
  /** Server credentials presenting the current certificate, requesting (not requiring) a client one. */
  readonly credentials: grpc.ServerCredentials;
  /** The certificate new handshakes get. */
  current(): ServingCertificate;
  /** Reissues now (also what the timer does). */
  rotate(): Promise<ServingCertificate>;
  /** Stops the renewal timer. */
  stop(): void;
}

export interface RotatingServingOptions {
  /** Fraction of the lifetime after which the certificate is reissued; default 0.5. */
  renewAtFraction?: number;
  /** After every reissue (and after a failed one, with the error). */
  onRotate?: (event: { serial?: string; notAfter?: Date; error?: string }) => void;
  /** Delay before retrying a failed reissue; default 5 s. */
  retryMs?: number;
}

/**
 * Issues a serving certificate for `identity` from `ca` and keeps it fresh: reissued when
 * `renewAtFraction` of its lifetime (from issuance) has passed, and whenever the CA changes (a root
 * rotation step), with the CA's trust bundle for client certificates.
 */
export async function rotatingServingCredentials(
  ca: CertificateAuthority,
  identity: ServingIdentity,
  o: RotatingServingOptions = {},
): Promise<RotatingServing> {
  const toUpdate = (s: ServingCertificate): IdentityUpdate => ({
    certificate: Buffer.from(s.certChainPem),
    privateKey: Buffer.from(s.keyPem),
  });
  let cert = await issueServingCertificate(ca, identity);
  const provider = new RotatingProvider(Buffer.from(ca.rootCertPem), toUpdate(cert));
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(() => void rotate().catch(() => undefined), Math.min(delayMs, 2 ** 31 - 1));
    timer.unref();
  };
  const renewDelay = (issuedAt: number, s: ServingCertificate): number =>
    Math.max(0, (s.notAfter.getTime() - issuedAt) * (o.renewAtFraction ?? 0.5));
  const rotate = async (): Promise<ServingCertificate> => {
    clearTimeout(timer);
    try {
      const issuedAt = Date.now();
      cert = await issueServingCertificate(ca, identity);
      provider.set(toUpdate(cert));
      o.onRotate?.({ serial: serialOf(cert), notAfter: cert.notAfter });
      schedule(renewDelay(issuedAt, cert));
      return cert;
    } catch (e) {
      o.onRotate?.({ error: (e as Error).message });
      schedule(o.retryMs ?? 5000);
      throw e;
    }
  };
  schedule(renewDelay(Date.now(), cert));
  // A root rotation step: trust the new bundle for client certificates and reissue at once, so the
  // serving certificate comes from the current signer.
  const offChange = ca.onChange(() => {
    provider.setCa(Buffer.from(ca.rootCertPem));
    void rotate().catch(() => undefined);
  });
  return {
    // One provider answers both roles: grpc-js's factory and constructor disagree on argument order.
    credentials: grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false),
    current: () => cert,
    rotate,
    stop: () => {
      stopped = true;
      offChange();
      clearTimeout(timer);
    },
  };
}

/** The serial number (hex) of a serving certificate's leaf. */
export function serialOf(s: ServingCertificate): string {
  return new X509Certificate(s.certChainPem).serialNumber;
}
