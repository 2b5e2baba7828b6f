// The CA's signing material: a self-signed root created on first start, or a plug-in
// intermediate (Istio's cacerts: ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem).
import { X509Certificate, randomBytes } from 'node:crypto';
import {
  generateKeyPair,
  importPrivateKeyPem,
  privateKeyToPem,
  signingAlgorithm,
  type KeyAlgorithm,
} from './keys.js';
import { normalizePem, splitPem } from './pem.js';
import { x509 } from './x509.js';

export interface CaMaterial {
  /** The certificate that signs workload certificates (the root itself when self-signed). */
  caCertPem: string;
  caKeyPem: string;
  /** Certificates between the signing certificate and the root: [caCert, ...intermediates], root excluded; empty when self-signed. */
  chainPems: string[];
  rootCertPem: string;
}

export interface RootOptions {
  trustDomain: string;
  keyAlgorithm?: KeyAlgorithm;
  /** Validity of the root; default 10 years. */
  ttlSeconds?: number;
  /** Clock in milliseconds since the epoch. */
  now?: number;
  /** The root's CN; default `Skein root CA` (a rotation's new root gets a distinct one). */
  commonName?: string;
}

/** A random positive 128-bit serial number as hex. */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

/** Creates a self-signed root CA for the trust domain. */
export async function createRootCa(o: RootOptions): Promise<CaMaterial> {
  const keys = await generateKeyPair(o.keyAlgorithm ?? 'ECDSA_P256');
  const now = o.now ?? Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `O=${o.trustDomain}, CN=${o.commonName ?? 'Skein root CA'}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (o.ttlSeconds ?? 10 * 365 * 86400) * 1000),
    signingAlgorithm: signingAlgorithm(keys.algorithm),
    keys: { privateKey: keys.privateKey, publicKey: keys.publicKey },
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pem = cert.toString('pem') + '\n';
  return {
    caCertPem: pem,
    caKeyPem: await privateKeyToPem(keys.privateKey),
    chainPems: [],
    rootCertPem: pem,
  };
}

/** Material from a user-supplied intermediate ("plug-in CA"), checked for consistency. */
export async function pluginCa(files: {
  caCert: string;
  caKey: string;
  certChain?: string;
  rootCert: string;
}): Promise<CaMaterial> {
  const caCertPem = normalizePem(files.caCert);
  const rootCertPem = normalizePem(files.rootCert);
  await importPrivateKeyPem(files.caKey);
  const chain = splitPem(files.certChain ?? '').filter((c) => c.trim() !== rootCertPem.trim());
  if (chain.length === 0 || chain[0]!.trim() !== caCertPem.trim()) chain.unshift(caCertPem);
  const material = {
    caCertPem,
    caKeyPem: files.caKey,
    chainPems: caCertPem === rootCertPem ? [] : chain,
    rootCertPem,
  };
  verifyMaterial(material);
  return material;
}

/** Throws unless the CA key matches the CA certificate and the chain leads to the root. */
export function verifyMaterial(m: CaMaterial): void {
  const caCert = new X509Certificate(m.caCertPem);
  if (!caCert.checkPrivateKey(createKey(m.caKeyPem)))
    throw new Error('CA key does not match the CA certificate');
  if (!caCert.ca) throw new Error('CA certificate is not a CA (basicConstraints CA:FALSE)');
  const certs = [...m.chainPems.map((p) => new X509Certificate(p)), new X509Certificate(m.rootCertPem)];
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i]!.verify(certs[i + 1]!.publicKey))
      throw new Error(`certificate ${i} of the chain is not signed by the next`);
  }
  const root = certs[certs.length - 1]!;
  if (!root.verify(root.publicKey)) throw new Error('root certificate is not self-signed');
}

import { createPrivateKey } from 'node:crypto';
function createKey(pem: string) {
  return createPrivateKey(pem);
}
