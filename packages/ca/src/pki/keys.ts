// Key pairs for the CA and workloads: ECDSA P-256 (default) or RSA 2048, generated with WebCrypto
// (node:crypto) and exchanged as PKCS#8 PEM.
import type { webcrypto } from 'node:crypto';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { subtle, x509 } from './x509.js';

export type KeyAlgorithm = 'ECDSA_P256' | 'RSA_2048';

export interface KeyPair {
  algorithm: KeyAlgorithm;
  privateKey: webcrypto.CryptoKey;
  publicKey: webcrypto.CryptoKey;
}

const params = {
  ECDSA_P256: { name: 'ECDSA', namedCurve: 'P-256' },
  RSA_2048: {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
} as const;

/** The signature algorithm a key of this kind signs certificates and CSRs with. */
export function signingAlgorithm(alg: KeyAlgorithm): webcrypto.EcdsaParams | webcrypto.Algorithm {
  return alg === 'ECDSA_P256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
}

export async function generateKeyPair(alg: KeyAlgorithm = 'ECDSA_P256'): Promise<KeyPair> {
  const pair = (await subtle.generateKey(params[alg], true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  return { algorithm: alg, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** PKCS#8 PEM of a private key. */
export async function privateKeyToPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** Imports a PEM private key (PKCS#8, SEC1 or PKCS#1) with the public half, detecting its algorithm. */
export async function importPrivateKeyPem(pem: string): Promise<KeyPair> {
  const key = createPrivateKey(pem);
  const type = key.asymmetricKeyType;
  let alg: KeyAlgorithm;
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') alg = 'ECDSA_P256';
  else if (type === 'rsa') alg = 'RSA_2048';
  else throw new Error(`unsupported CA key type ${type} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const privateKey = await subtle.importKey('pkcs8', pkcs8, params[alg], true, ['sign']);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const publicKey = await subtle.importKey('spki', spki, params[alg], true, ['verify']);
  return { algorithm: alg, privateKey, publicKey };
}
