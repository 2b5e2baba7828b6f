// The CA's signing material: a self-signed root created on first start, or a plug-in
// intermediate (Istio's cacerts: ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem).
import { X509Certificate, randomBytes } from 'node:crypto';
import {
  generateKeyPair,
  importPrivateKeyPem,
  privateKeyToPem,
  signingAlgorithm,
  type KeyAlgorithm,
  type KeyPair,
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
  /**
   * Roots trusted besides the signing chain's own: a plug-in `root-cert.pem` holding several roots
   * (Istio's plug-in root rotation: old and new root side by side while workloads move over).
   */
  otherRootPems?: string[];
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

/**
 * A self-signed root certificate (PEM) for `keys` with subject `name`, valid from a minute before
 * `now` for `ttlSeconds`: a CA that may sign certificates and CRLs, no path-length limit.
 */
export async function selfSignedRootPem(
  keys: KeyPair,
  name: x509.X509CertificateCreateParamsName,
  now: number,
  ttlSeconds: number,
): Promise<string> {
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + ttlSeconds * 1000),
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
  return cert.toString('pem') + '\n';
}

/** Creates a self-signed root CA for the trust domain. */
export async function createRootCa(o: RootOptions): Promise<CaMaterial> {
  const keys = await generateKeyPair(o.keyAlgorithm ?? 'ECDSA_P256');
  const pem = await selfSignedRootPem(
    keys,
    `O=${o.trustDomain}, CN=${o.commonName ?? 'Skein root CA'}`,
    o.now ?? Date.now(),
    o.ttlSeconds ?? 10 * 365 * 86400,
  );
  return {
    caCertPem: pem,
    caKeyPem: await privateKeyToPem(keys.privateKey),
    chainPems: [],
    rootCertPem: pem,
  };
}

/** An intermediate CA signed by `parent` (for plug-in CAs: one per cluster, or a rotation's next). */
export async function createIntermediateCa(
  parent: CaMaterial,
  o: RootOptions & { commonName: string },
): Promise<CaMaterial> {
  const keys = await generateKeyPair(o.keyAlgorithm ?? 'ECDSA_P256');
  const parentKeys = await importPrivateKeyPem(parent.caKeyPem);
  const parentCert = new x509.X509Certificate(parent.caCertPem);
  const now = o.now ?? Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `O=${o.trustDomain}, CN=${o.commonName}`,
    issuer: parentCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (o.ttlSeconds ?? 365 * 86400) * 1000),
    signingAlgorithm: signingAlgorithm(parentKeys.algorithm),
    publicKey: keys.publicKey,
    signingKey: parentKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
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
    chainPems: [pem, ...parent.chainPems],
    rootCertPem: parent.rootCertPem,
  };
}

/** The root of `roots` that signed `top` (the chain's last certificate before the root). */
function signingRoot(top: string, roots: readonly string[]): string | undefined {
  const cert = new X509Certificate(top);
  return roots.find((r) => {
    const root = new X509Certificate(r);
    return r.trim() === top.trim() || (cert.checkIssued(root) && cert.verify(root.publicKey));
  });
}

/**
 * Material from a user-supplied intermediate ("plug-in CA"), checked for consistency.
 * `root-cert.pem` may hold several roots (a plug-in root rotation): the one the chain leads to
 * signs, the others are trusted too.
 */
export async function pluginCa(files: {
  caCert: string;
  caKey: string;
  certChain?: string;
  rootCert: string;
}): Promise<CaMaterial> {
  const caCertPem = normalizePem(files.caCert);
  const roots = splitPem(files.rootCert);
  if (roots.length === 0) throw new Error('root-cert.pem holds no certificate');
  await importPrivateKeyPem(files.caKey);
  const isRoot = (c: string) => roots.some((r) => r.trim() === c.trim());
  const chain = splitPem(files.certChain ?? '').filter((c) => !isRoot(c));
  if (chain.length === 0 || chain[0]!.trim() !== caCertPem.trim()) chain.unshift(caCertPem);
  const top = isRoot(caCertPem) ? caCertPem : chain[chain.length - 1]!;
  const rootCertPem = signingRoot(top, roots);
  if (rootCertPem === undefined)
    throw new Error(
      `the CA certificate's chain leads to none of the ${roots.length} root(s) in root-cert.pem`,
    );
  const otherRootPems = roots.filter((r) => r !== rootCertPem);
  const material: CaMaterial = {
    caCertPem,
    caKeyPem: files.caKey,
    chainPems: caCertPem === rootCertPem ? [] : chain,
    rootCertPem,
    ...(otherRootPems.length > 0 ? { otherRootPems } : {}),
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
