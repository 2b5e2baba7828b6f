// Public API of @skein/proxy. Everything other packages may use is exported here by name.
export { startProxy, RunningProxy, type ProxyOptions, type XdsEvent } from './proxy.js';
export {
  parseBootstrap,
  loadBootstrapFile,
  canonicalBootstrap,
  type LoadedBootstrap,
  type BootstrapJson,
} from './bootstrap/load-bootstrap.js';
export { unsupportedFields } from './bootstrap/supported-fields.js';
export type { OriginalDstResolver } from './listener/active-listener.js';
export {
  PEER_METADATA_HEADER,
  PEER_METADATA_ID_HEADER,
  encodePeerMetadata,
  decodePeerMetadata,
} from './stats/workload-metadata.js';
export type { PeerMetadata } from './http-connection-manager/stream-info.js';
export { freePort } from './testing/free-port.js';
export { startTestAdsServer, type TestAdsServer, type TestAdsRequest } from './testing/test-ads-server.js';
