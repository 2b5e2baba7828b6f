// Public API of @skein/ca: the CA core, its gRPC service (standalone or embedded), the CSR client,
// key and CSR helpers for workloads, and SPIFFE identities.
export {
  generateKeyPair,
  privateKeyToPem,
  importPrivateKeyPem,
  type KeyAlgorithm,
  type KeyPair,
} from './pki/keys.js';
export { createCsr, parseCsr, type CsrSubject } from './pki/csr.js';
export { splitPem } from './pki/pem.js';
export { spiffeId, parseSpiffeId, type WorkloadId } from './pki/spiffe.js';
export {
  createRootCa,
  pluginCa,
  verifyMaterial,
  type CaMaterial,
  type RootOptions,
} from './pki/ca-material.js';
export {
  CertificateAuthority,
  CertificateRequestError,
  certificateUris,
  type IssuePolicy,
  type IssuedCertificate,
  type SanSet,
} from './pki/issue.js';
export {
  authenticate,
  bearerToken,
  BootstrapTokenAuthenticator,
  MeshCertificateAuthenticator,
  type Authenticator,
  type CallCredentials,
  type Caller,
} from './authn/authenticator.js';
export {
  TokenReviewAuthenticator,
  type TokenReviewer,
  type TokenReviewResult,
} from './authn/token-review.js';
export {
  caServiceHandlers,
  createCertificate,
  callCredentials,
  type CaServiceOptions,
} from './server/ca-service.js';
export {
  issueServingCertificate,
  servingCredentials,
  type ServingCertificate,
  type ServingIdentity,
} from './server/serving-credentials.js';
export { startCa, DEFAULT_SERVING_IDENTITY, type StartCaOptions, type RunningCa } from './server/start-ca.js';
export { loadOrCreateDirectoryCa, type LoadedMaterial } from './store/directory-store.js';
export { requestCertificate, type CaClientOptions } from './client/ca-client.js';
