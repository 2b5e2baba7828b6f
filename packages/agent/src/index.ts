// Public API of @skein/agent. Everything other packages may use is exported here by name.
export {
  buildBootstrap,
  BootstrapCluster,
  DEFAULT_SDS_SOCKET,
  type BootstrapOptions,
  type DiscoveryAddress,
  type HostPort,
} from './bootstrap/build-bootstrap.js';
export {
  nodeId,
  nodeMetadata,
  serviceCluster,
  canonicalName,
  canonicalRevision,
  type WorkloadIdentity,
  type ProxyType,
  type InterceptionMode,
  type PodPort,
} from './bootstrap/node-identity.js';
