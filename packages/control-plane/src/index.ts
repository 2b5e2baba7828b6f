// Public API of @skein/control-plane. Everything other packages may use is exported here by name.
export { startControlPlane, type ControlPlaneOptions, type RunningControlPlane } from './control-plane.js';
export type { Syncz, SynczProxy, SynczTypeStatus, SynczNack } from './serve/syncz.js';
export type { Problem, Validator, Validation } from './ingest/validation.js';
export { DEFAULT_MESH_CONFIG, meshConfigFrom, type MeshConfig } from './model/mesh-config.js';
export type {
  SecurityContributor,
  UpstreamTlsInput,
  InboundPort,
  TransportSocketJson,
  FilterChainJson,
  HttpFilterJson,
  NetworkFilterJson,
} from './translate/security.js';
export type { TranslateContext } from './translate/context.js';
export type { Proxy, Locality } from './model/proxy.js';
export type { Snapshot } from './model/snapshot.js';
export type { Service, ServicePort, Workload } from './model/services.js';
export { outboundClusterName, inboundClusterName } from './translate/names.js';
export { defaultCaDir, type EmbeddedCa, type EmbeddedCaConfig } from './security/embedded-ca.js';
export { accessLogFilterOf, type FilterTranslation } from './translate/access-log-filter.js';
