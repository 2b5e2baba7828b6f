// A TLS client handshake with a proxy's listener, for the tests that check which certificate it
// serves (or that it serves none yet).
import * as tls from 'node:tls';

export interface Handshake {
  /** The SHA-256 fingerprint of the certificate the listener presented. */
  fingerprint?: string;
  error?: string;
}

/** The certificate a TLS handshake on `port` presents (its fingerprint), or the handshake error. */
export function handshake(port: number): Promise<Handshake> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve({ fingerprint: s.getPeerCertificate().fingerprint256 });
      s.destroy();
    });
    s.once('error', (e) => resolve({ error: e.message }));
    s.once('close', () => resolve({ error: 'closed before the handshake' }));
  });
}
