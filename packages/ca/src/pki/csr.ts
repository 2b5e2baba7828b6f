// PKCS#10 certificate signing requests: built by workloads (the key never leaves them), parsed
// and checked by the CA. All ASN.1 through @peculiar/x509.
import { signingAlgorithm, type KeyPair } from './keys.js';
import { x509 } from './x509.js';

export interface CsrSubject {
  /** URI SANs (the SPIFFE ID). */
  uris?: string[];
  dnsNames?: string[];
}

/** A PEM CSR for the given SANs, signed by the key pair. */
export async function createCsr(keys: KeyPair, subject: CsrSubject): Promise<string> {
  const names: x509.JsonGeneralName[] = [
    ...(subject.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(subject.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: { privateKey: keys.privateKey, publicKey: keys.publicKey },
    signingAlgorithm: signingAlgorithm(keys.algorithm),
    extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, true)] : [],
  });
  return csr.toString('pem');
}

export interface ParsedCsr {
  csr: x509.Pkcs10CertificateRequest;
  uris: string[];
  dnsNames: string[];
}

/** Parses a PEM CSR and verifies its self-signature; throws a readable error otherwise. */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (e) {
    throw new Error(`CSR is not a valid PEM PKCS#10 request: ${(e as Error).message}`);
  }
  if (!(await csr.verify())) throw new Error('CSR signature does not verify');
  const san = csr.getExtension('2.5.29.17') as x509.SubjectAlternativeNameExtension | null;
  const uris: string[] = [];
  const dnsNames: string[] = [];
  for (const n of san?.names.toJSON() ?? []) {
    if (n.type === 'url') uris.push(n.value);
    else if (n.type === 'dns') dnsNames.push(n.value);
  }
  return { csr, uris, dnsNames };
}
