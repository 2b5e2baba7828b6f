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
export { runAgent, type AgentConfig, type RunningAgent } from './lifecycle/run-agent.js';
export { waitForReady, type WaitOptions } from './lifecycle/wait.js';
export {
  WorkloadCertificate,
  type CertificateSigner,
  type WorkloadSecret,
} from './sds/workload-certificate.js';
export {
  startSdsServer,
  secretResource,
  WORKLOAD_SECRET,
  ROOT_SECRET,
  type RunningSds,
} from './sds/sds-server.js';
export { caSigner, type CaSignerOptions } from './sds/ca-signer.js';
export { startStatusServer, proxyReadiness, type StatusServerOptions } from './status/status-server.js';
export { runProbe, type AppProbe, type AppProbers } from './status/app-probes.js';
export { startDnsProxy, type DnsProxyOptions, type RunningDnsProxy } from './dns/dns-proxy.js';
export { indexNameTable, type NameTableIndex, type NameTableJson } from './dns/name-table.js';
export { subscribeNameTable, type NdsClientOptions } from './dns/nds-client.js';
export { DEFAULT_IPTABLES_CONFIG, type IptablesConfig } from './iptables/iptables-config.js';
export { iptablesSave, natRules } from './iptables/iptables-rules.js';
export { applyIptables, cleanupIptables, type CommandRunner } from './iptables/apply-iptables.js';
export {
  startXdsRelay,
  meshChannelCredentials,
  type XdsRelayOptions,
  type RunningXdsRelay,
} from './xds/xds-relay.js';
