// istio.v1.auth.IstioCertificateService/CreateCertificate: authenticate the caller, sign its CSR
// for its own identity, answer with [leaf, ...intermediates, root]. Embeddable in any grpc-js server.
import * as grpc from '@grpc/grpc-js';
import { istioCaV1, messageFromJson } from '@skein/api-types';
import { authenticate, type Authenticator, type CallCredentials } from '../authn/authenticator.js';
import { CertificateRequestError, type CertificateAuthority } from '../pki/issue.js';

export interface CaServiceOptions {
  ca: CertificateAuthority;
  authenticators: Authenticator[];
  /** Called once per request with its outcome (structured log line). */
  log?: (entry: {
    identity?: string;
    method?: string;
    ok: boolean;
    error?: string;
    ttlSeconds?: number;
  }) => void;
}

type Request = istioCaV1.IstioCertificateRequest;
type Response = istioCaV1.IstioCertificateResponse;

/** The credentials of any grpc-js server call (unary or streaming): metadata and the TLS peer certificate. */
export function callCredentials(call: {
  metadata: grpc.Metadata;
  getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } | undefined };
}): CallCredentials {
  const metadata: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(call.metadata.getMap())) metadata[k.toLowerCase()] = String(v);
  const peer = call.getAuthContext().sslPeerCertificate;
  return { metadata, ...(peer?.raw ? { peerCertificateDer: peer.raw } : {}) };
}

/** The CreateCertificate handler (core logic, independent of the transport). */
export async function createCertificate(
  o: CaServiceOptions,
  creds: CallCredentials,
  req: { csr: string; validityDuration: bigint },
): Promise<string[]> {
  let caller;
  try {
    caller = await authenticate(o.authenticators, creds);
  } catch (e) {
    throw Object.assign(new Error((e as Error).message), { code: grpc.status.UNAUTHENTICATED });
  }
  try {
    const ttl = Number(req.validityDuration);
    const issued = await o.ca.signWorkloadCsr(req.csr, caller.identity, ttl > 0 ? ttl : undefined);
    o.log?.({ identity: caller.identity, method: caller.method, ok: true, ttlSeconds: ttl });
    return issued.certChain;
  } catch (e) {
    const err = e as Error;
    o.log?.({ identity: caller.identity, method: caller.method, ok: false, error: err.message });
    const code =
      e instanceof CertificateRequestError && e.kind === 'denied'
        ? grpc.status.PERMISSION_DENIED
        : grpc.status.INVALID_ARGUMENT;
    throw Object.assign(new Error(err.message), { code });
  }
}

/** grpc-js handlers for `caServiceDefinition` (add them to your own server to embed the CA). */
export function caServiceHandlers(o: CaServiceOptions): grpc.UntypedServiceImplementation {
  const createCertificateHandler: grpc.handleUnaryCall<Request, Response> = (call, callback) => {
    createCertificate(o, callCredentials(call), call.request).then(
      (certChain) => callback(null, messageFromJson(istioCaV1.IstioCertificateResponseSchema, { certChain })),
      (e: Error & { code?: grpc.status }) =>
        callback({ code: e.code ?? grpc.status.INTERNAL, details: e.message, message: e.message }),
    );
  };
  return { createCertificate: createCertificateHandler } as grpc.UntypedServiceImplementation;
}
