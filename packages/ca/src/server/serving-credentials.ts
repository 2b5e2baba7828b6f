// TLS for the CA's (and skeind's) own gRPC endpoints: a serving certificate issued by the mesh CA,
// client certificates requested but optional (token callers have none yet).
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { generateKeyPair, privateKeyToPem } from '../pki/keys.js';
import type { CertificateAuthority } from '../pki/issue.js';

export interface ServingIdentity {
  dnsNames: string[];
  ipAddresses?: string[];
  /** Default 30 days. */
  ttlSeconds?: number;
}

export interface ServingCertificate {
  keyPem: string;
  /** leaf + intermediates (no root). */
  certChainPem: string;
  notAfter: Date;
}

export async function issueServingCertificate(
  ca: CertificateAuthority,
  id: ServingIdentity,
): Promise<ServingCertificate> {
  const keys = await generateKeyPair();
  const issued = await ca.issueServing(
    keys.publicKey,
    { dnsNames: id.dnsNames, ipAddresses: id.ipAddresses ?? [] },
    id.ttlSeconds ?? 30 * 86400,
  );
  return {
    keyPem: await privateKeyToPem(keys.privateKey),
    certChainPem: issued.certChain.slice(0, -1).join(''),
    notAfter: issued.notAfter,
  };
}

class StaticProvider implements grpc.experimental.CertificateProvider {
  constructor(
    private readonly ca: Buffer | null,
    private readonly identity: { certificate: Buffer; privateKey: Buffer } | null,
  ) {}
  addCaCertificateListener(l: (u: { caCertificate: Buffer } | null) => void): void {
    // Asynchronously: grpc-js registers its watcher only after adding the listener.
    queueMicrotask(() => l(this.ca ? { caCertificate: this.ca } : null));
  }
  removeCaCertificateListener(): void {}
  addIdentityCertificateListener(l: (u: { certificate: Buffer; privateKey: Buffer } | null) => void): void {
    queueMicrotask(() => l(this.identity));
  }
  removeIdentityCertificateListener(): void {}
}

/**
 * grpc-js server credentials presenting `serving` and requesting (not requiring) a client
 * certificate verified by the caller's code against `rootCertPem` (see MeshCertificateAuthenticator).
 */
export function servingCredentials(serving: ServingCertificate, rootCertPem: string): grpc.ServerCredentials {
  new X509Certificate(rootCertPem);
  // One provider answers both roles: grpc-js's factory and constructor disagree on argument order.
  const provider = new StaticProvider(Buffer.from(rootCertPem), {
    certificate: Buffer.from(serving.certChainPem),
    privateKey: Buffer.from(serving.keyPem),
  });
  return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
}
