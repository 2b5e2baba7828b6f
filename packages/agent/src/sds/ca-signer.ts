// The CertificateSigner that talks to skein-ca (or skeind's embedded CA) over TLS gRPC: the first
// request authenticates with a token, renewals with the current mesh certificate when no token is set.
import { readFileSync } from 'node:fs';
import { requestCertificate, trustBundlePem } from '@skein/ca';
import type { CertificateSigner, WorkloadCertificate } from './workload-certificate.js';

export interface CaSignerOptions {
  /** host:port of the CA. */
  address: string;
  rootCertPem: string;
  serverName?: string;
  /** A token (bootstrap or service-account), or a file re-read per request (projected tokens rotate). */
  token?: string;
  tokenFile?: string;
  clusterId?: string;
  /** When given, renewals present its current certificate as the TLS client certificate. */
  certificate?: () => WorkloadCertificate | undefined;
}

export function caSigner(o: CaSignerOptions): CertificateSigner {
  return {
    sign: (csr, ttl) =>
      requestCertificate(
        {
          address: o.address,
          // The configured root plus the bundle of the current certificate (a root rotation's new root).
          rootCertPem: trustBundlePem([o.rootCertPem, o.certificate?.()?.secret?.rootCertPem ?? '']),
          ...(o.serverName ? { serverName: o.serverName } : {}),
          ...(o.clusterId ? { clusterId: o.clusterId } : {}),
          token: () => o.token ?? (o.tokenFile ? readFileSync(o.tokenFile, 'utf8').trim() : undefined),
          clientCertificate: () => {
            const s = o.certificate?.()?.secret;
            return s && s.notAfter.getTime() > Date.now()
              ? { keyPem: s.keyPem, certChainPem: s.certChainPem }
              : undefined;
          },
        },
        csr,
        ttl,
      ),
  };
}
