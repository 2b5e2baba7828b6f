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
export { splitPem, trustBundlePem } from './pki/pem.js';
export { spiffeId, parseSpiffeId, type WorkloadId } from './pki/spiffe.js';
export {
  createRootCa,
  createIntermediateCa,
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
export { TokensFileAuthenticator } from './authn/tokens-file.js';
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
export {
  rotatingServingCredentials,
  serialOf,
  type RotatingServing,
  type RotatingServingOptions,
} from './server/serving-rotation.js';
export { startCa, DEFAULT_SERVING_IDENTITY, type StartCaOptions, type RunningCa } from './server/start-ca.js';
export { loadOrCreateDirectoryCa, type LoadedMaterial } from './store/directory-store.js';
export {
  directoryCaSignature,
  loadDirectoryCaState,
  rotateRoot,
  watchDirectoryCa,
  type DirectoryCaState,
  type DirectoryCaWatch,
  type RotationStep,
} from './store/root-rotation.js';
export { requestCertificate, type CaClientOptions } from './client/ca-client.js';
export {
  DEFAULT_ROOT_NAMESPACE,
  policyApplies,
  selectorMatches,
  type WorkloadView,
} from './security/workload-view.js';
export { resolveInboundMtls, modeForPort, type InboundMtls, type MtlsMode } from './security/mtls-mode.js';
export {
  autoMtlsTransportSocketMatches,
  expectedIdentities,
  inboundChainVariants,
  istioMutualUpstreamTlsContext,
  meshDownstreamTlsContext,
  meshSni,
  sdsConfig,
  tlsInspectorFilter,
  tlsTransportSocket,
  DOWNSTREAM_TLS_TYPE,
  UPSTREAM_TLS_TYPE,
  MESH_ALPN,
  MESH_HTTP_ALPN,
  ALL_MESH_ALPN,
  meshUpstreamAlpn,
  type MeshUpstreamProtocol,
  type InboundChainVariant,
} from './security/tls-context.js';
export {
  acceptPeer,
  checkPeerSans,
  peerPrincipal,
  tlsClientOptions,
  tlsServerOptions,
  type DataSourceJson,
  type SecretJson,
  type SecretLookup,
} from './security/node-tls-options.js';
export {
  translateAuthorizationPolicies,
  type AuthzOptions,
  type AuthzTranslation,
  type RbacAction,
  type RbacFilter,
  type RbacRulesJson,
  type SecurityProblem,
} from './security/authz/authorization-policy.js';
export {
  evaluateRbac,
  evaluateRbacChain,
  matchingPolicy,
  permissionMatches,
  principalMatches,
  stringMatches,
  type RbacDecision,
  type RbacRequest,
} from './security/authz/rbac-engine.js';
export {
  translateRequestAuthentication,
  jwksCluster,
  JWT_AUTHN_TYPE,
  type JwksCluster,
  type JwtTranslation,
} from './security/jwt-authn.js';
export {
  KubeClient,
  defaultKubeconfigPath,
  inClusterConnection,
  kubeconfigConnection,
  resolveKubeConnection,
  type KubeApi,
  type KubeConnection,
  type KubeResponse,
} from './kube/kube-client.js';
export {
  kubeTokenReviewer,
  loadOrCreateKubeCa,
  publishRootCert,
  selfSignedMaterial,
  SELF_SIGNED_SECRET,
  PLUGIN_SECRET,
  ROOT_CONFIGMAP,
} from './kube/kube-ca.js';
export { watchKubeCa, materialDigest, type KubeCaWatch } from './kube/kube-ca-watch.js';
export { rotateKubeRoot } from './kube/kube-root-rotation.js';
export {
  checkSelfSignedRoot,
  startSelfSignedRootRotator,
  rootRotatorEnv,
  goDurationMs,
  type RootCheck,
  type RootRotator,
  type RootRotatorOptions,
} from './kube/self-signed-root-rotator.js';
export {
  renewSelfSignedRoot,
  rootRenewalTime,
  ROOT_GRACE_PERCENT,
  ROOT_TTL_SECONDS,
} from './pki/root-renewal.js';
export {
  meshSecurity,
  upstreamProtocol,
  TLS_MODE_LABEL,
  type MeshSecurity,
  type SecurityContextView,
  type UpstreamView,
  type InboundPortView,
  type FilterChainView,
} from './security/mesh-security.js';
export { authenticateXdsCaller, type ClaimedProxy } from './authn/xds-caller.js';
export { subscribeSecrets, type SdsClientOptions, type SdsSecrets } from './security/sds-client.js';
export {
  authenticateJwt,
  jwksResolver,
  type JwksResolver,
  type JwtOutcome,
  type JwtRequest,
} from './security/jwt-verify.js';
