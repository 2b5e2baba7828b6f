// Generated from the mesh API schema (packages/api-types/src/mesh/kinds) by `npm run generate:mesh`. Do not edit.

/** Kubernetes object metadata, as much of it as mesh objects use. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  uid?: string;
  creationTimestamp?: string;
}

export interface Abort {
  /** HTTP status to abort with. */
  httpStatus?: number;
  /** gRPC status name to abort with, e.g. UNAVAILABLE. */
  grpcStatus?: string;
  /** HTTP/2 error to abort with. */
  http2Error?: string;
  /** A percentage. */
  percentage?: Percent;
}

export interface AccessLogging {
  match?: LogSelector;
  providers?: ProviderRef[];
  disabled?: boolean;
  filter?: Filter;
}

/** Who may call what. */
export interface AuthorizationPolicySpec {
  /** Selects workloads by their labels. */
  selector?: PolicyWorkloadSelector;
  /** A resource a policy attaches to. */
  targetRef?: PolicyTargetReference;
  /** Resources this applies to. */
  targetRefs?: PolicyTargetReference[];
  rules?: Rule[];
  /** ALLOW by default. */
  action?: "ALLOW" | "DENY" | "AUDIT" | "CUSTOM";
  provider?: ExtensionProvider;
}

export interface ClaimToHeader {
  header: string;
  claim: string;
}

/** TLS settings for connections to the upstream. */
export interface ClientTLSSettings {
  mode?: "DISABLE" | "SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL";
  clientCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  credentialName?: string;
  subjectAltNames?: string[];
  sni?: string;
  insecureSkipVerify?: boolean;
  caCrl?: string;
}

export interface Condition {
  /** Attribute, e.g. request.headers[x-user] or source.ip. */
  key: string;
  values?: string[];
  notValues?: string[];
}

/** Connection pool limits (circuit breaking). */
export interface ConnectionPoolSettings {
  tcp?: TCPSettings;
  http?: HTTPSettings;
}

/** Session affinity by consistent hashing. */
export interface ConsistentHashLB {
  /** Hash on this request header. */
  httpHeaderName?: string;
  httpCookie?: HTTPCookie;
  /** Hash on the source IP. */
  useSourceIp?: boolean;
  /** Hash on this query parameter. */
  httpQueryParameterName?: string;
  ringHash?: RingHash;
  maglev?: MagLev;
  /** Deprecated: use ringHash.minimumRingSize. */
  minimumRingSize?: number;
}

/** Cross-origin resource sharing policy. */
export interface CorsPolicy {
  /** Deprecated: use allowOrigins. */
  allowOrigin?: string[];
  /** Origins allowed to make requests. */
  allowOrigins?: StringMatch[];
  /** Methods allowed. */
  allowMethods?: string[];
  /** Request headers allowed. */
  allowHeaders?: string[];
  /** Response headers browsers may read. */
  exposeHeaders?: string[];
  /** How long preflight results may be cached. (e.g. "1.5s", "100ms"). */
  maxAge?: string;
  /** Whether credentials may be sent. */
  allowCredentials?: boolean;
  /** What to do with unmatched preflights. */
  unmatchedPreflights?: "UNSPECIFIED" | "FORWARD" | "IGNORE";
}

export interface CustomTag {
  literal?: Literal;
  environment?: Environment;
  header?: RequestHeader;
}

export interface Delay {
  /** Delay before forwarding. (e.g. "1.5s", "100ms"). */
  fixedDelay?: string;
  /** Not supported by Istio; accepted and ignored. (e.g. "1.5s", "100ms"). */
  exponentialDelay?: string;
  /** A percentage. */
  percentage?: Percent;
  /** Deprecated: use percentage. */
  percent?: number;
}

export interface Delegate {
  name: string;
  namespace?: string;
}

/** A service (and optionally a subset and port) to send traffic to. */
export interface Destination {
  /** The service name in the registry (short names resolve in the rule namespace). */
  host: string;
  /** A subset defined in the DestinationRule of the host. */
  subset?: string;
  /** A port of the destination service. */
  port?: PortSelector;
}

/** Policies for traffic to a service after routing. */
export interface DestinationRuleSpec {
  /** The service this applies to. */
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
  /** Namespaces this configuration is visible to ("." this one, "*" all). */
  exportTo?: string[];
  /** Selects workloads by their labels. */
  workloadSelector?: PolicyWorkloadSelector;
}

export interface Distribute {
  from?: string;
  to?: Record<string, number>;
}

export interface Environment {
  name: string;
  defaultValue?: string;
}

/** Patches to generated Envoy configuration; accepted but not supported by Skein. */
export interface EnvoyFilterSpec {
  workloadSelector?: EnvoyFilterWorkloadSelector;
  targetRefs?: EnvoyFilterTargetRef[];
  configPatches?: Record<string, unknown>[];
  priority?: number;
}

export interface EnvoyFilterTargetRef {
  group?: string;
  kind?: string;
  name?: string;
}

export interface EnvoyFilterWorkloadSelector {
  labels?: Record<string, string>;
}

export interface ExecHealthCheckConfig {
  command?: string[];
}

export interface ExtensionProvider {
  name?: string;
}

export interface Failover {
  from?: string;
  to?: string;
}

export interface Filter {
  /** CEL expression selecting the requests to log. */
  expression?: string;
}

/** Ports, protocols and hosts exposed at the edge. */
export interface GatewaySpec {
  servers: Server[];
  /** Labels of the gateway workloads this configuration applies to. */
  selector?: Record<string, string>;
}

export interface GrpcHealthCheckConfig {
  port?: number;
  service?: string;
}

export interface HeaderOperations {
  /** Overwrite the headers with these values. */
  set?: Record<string, string>;
  /** Append these values to the headers. */
  add?: Record<string, string>;
  /** Remove these headers. */
  remove?: string[];
}

/** Header manipulation on the request and the response. */
export interface Headers {
  request?: HeaderOperations;
  response?: HeaderOperations;
}

export interface HTTPBody {
  /** Response body as a string. */
  string?: string;
  /** Response body, base64. */
  bytes?: string;
}

export interface HTTPCookie {
  name: string;
  path?: string;
  /** Lifetime of the generated cookie. (e.g. "1.5s", "100ms"). */
  ttl?: string;
}

/** Answer directly instead of forwarding. */
export interface HTTPDirectResponse {
  /** HTTP status to answer with. */
  status: number;
  body?: HTTPBody;
}

/** Faults to inject. */
export interface HTTPFaultInjection {
  delay?: Delay;
  abort?: Abort;
}

export interface HTTPHeader {
  name?: string;
  value?: string;
}

export interface HTTPHealthCheckConfig {
  path?: string;
  port?: number;
  host?: string;
  scheme?: string;
  httpHeaders?: HTTPHeader[];
}

/** Conditions a request must meet for its rule to apply. */
export interface HTTPMatchRequest {
  /** Name of the match, used in logs. */
  name?: string;
  /** How to match a string: exactly, by prefix, or by RE2 regex. */
  uri?: StringMatch;
  /** How to match a string: exactly, by prefix, or by RE2 regex. */
  scheme?: StringMatch;
  /** How to match a string: exactly, by prefix, or by RE2 regex. */
  method?: StringMatch;
  /** How to match a string: exactly, by prefix, or by RE2 regex. */
  authority?: StringMatch;
  /** Header name (lowercase) to match. */
  headers?: Record<string, StringMatch>;
  /** Port of the host being addressed. */
  port?: number;
  /** Labels the calling workload must carry. */
  sourceLabels?: Record<string, string>;
  /** Gateways this match applies to ("mesh" for sidecars). */
  gateways?: string[];
  /** Query parameters to match. */
  queryParams?: Record<string, StringMatch>;
  /** Match the URI case-insensitively. */
  ignoreUriCase?: boolean;
  /** Headers that must not match. */
  withoutHeaders?: Record<string, StringMatch>;
  /** Namespace of the calling workload. */
  sourceNamespace?: string;
  /** Prefix for the route statistics. */
  statPrefix?: string;
}

export interface HTTPMirrorPolicy {
  /** A service (and optionally a subset and port) to send traffic to. */
  destination: Destination;
  /** A percentage. */
  percentage?: Percent;
}

/** Answer with a redirect instead of forwarding. */
export interface HTTPRedirect {
  /** Replace the path with this value. */
  uri?: string;
  /** Replace the authority with this value. */
  authority?: string;
  /** Redirect to this port. */
  port?: number;
  /** How to choose the port. */
  derivePort?: "FROM_PROTOCOL_DEFAULT" | "FROM_REQUEST_PORT";
  /** Redirect to this scheme. */
  scheme?: string;
  /** HTTP status of the redirect (default 301). */
  redirectCode?: number;
}

/** Retry policy. */
export interface HTTPRetry {
  /** Number of retries (not counting the first try). */
  attempts?: number;
  /** Timeout of each try. (e.g. "1.5s", "100ms"). */
  perTryTimeout?: string;
  /** Comma-separated conditions to retry on. */
  retryOn?: string;
  /** Retry in other localities. */
  retryRemoteLocalities?: boolean;
}

/** Rewrite the request before forwarding. */
export interface HTTPRewrite {
  /** Replace the matched URI prefix (or whole URI) with this value. */
  uri?: string;
  /** Replace the Authority/Host header with this value. */
  authority?: string;
  uriRegexRewrite?: RegexRewrite;
}

/** Rules for HTTP traffic. */
export interface HTTPRoute {
  /** Name of the route, used in logs. */
  name?: string;
  /** Conditions; any one matching selects this route. */
  match?: HTTPMatchRequest[];
  /** Where to forward, with relative weights. */
  route?: HTTPRouteDestination[];
  /** Answer with a redirect instead of forwarding. */
  redirect?: HTTPRedirect;
  /** Answer directly instead of forwarding. */
  directResponse?: HTTPDirectResponse;
  delegate?: Delegate;
  /** Rewrite the request before forwarding. */
  rewrite?: HTTPRewrite;
  /** Request timeout (none by default). (e.g. "1.5s", "100ms"). */
  timeout?: string;
  /** Retry policy. */
  retries?: HTTPRetry;
  /** Faults to inject. */
  fault?: HTTPFaultInjection;
  /** A service (and optionally a subset and port) to send traffic to. */
  mirror?: Destination;
  /** Destinations to mirror traffic to. */
  mirrors?: HTTPMirrorPolicy[];
  /** A percentage. */
  mirrorPercentage?: Percent;
  /** Deprecated: use mirrorPercentage. */
  mirrorPercent?: number;
  /** Cross-origin resource sharing policy. */
  corsPolicy?: CorsPolicy;
  /** Header manipulation on the request and the response. */
  headers?: Headers;
}

/** A destination with its share of the traffic. */
export interface HTTPRouteDestination {
  /** A service (and optionally a subset and port) to send traffic to. */
  destination: Destination;
  /** Relative share of the traffic: weight / sum of weights. */
  weight?: number;
  /** Header manipulation on the request and the response. */
  headers?: Headers;
}

export interface HTTPSettings {
  /** Maximum queued requests. */
  http1MaxPendingRequests?: number;
  /** Maximum active requests. */
  http2MaxRequests?: number;
  /** Requests per connection (0: unlimited). */
  maxRequestsPerConnection?: number;
  /** Maximum outstanding retries. */
  maxRetries?: number;
  /** Idle timeout of upstream connections. (e.g. "1.5s", "100ms"). */
  idleTimeout?: string;
  h2UpgradePolicy?: "DEFAULT" | "DO_NOT_UPGRADE" | "UPGRADE";
  useClientProtocol?: boolean;
  maxConcurrentStreams?: number;
}

export interface IstioEgressListener {
  port?: SidecarPort;
  /** Address to bind to. */
  bind?: string;
  /** How traffic reaches this listener; NONE binds to the explicit address and port. */
  captureMode?: "DEFAULT" | "IPTABLES" | "NONE";
  /** Reachable hosts as "namespace/dnsName" ("./" this namespace, "* /" any). */
  hosts: string[];
}

export interface IstioIngressListener {
  port: SidecarPort;
  /** Address to bind to. */
  bind?: string;
  /** How traffic reaches this listener; NONE binds to the explicit address and port. */
  captureMode?: "DEFAULT" | "IPTABLES" | "NONE";
  /** Where to forward: 127.0.0.1:PORT, 0.0.0.0:PORT or unix://path. */
  defaultEndpoint?: string;
  tls?: ServerTLSSettings;
  /** Connection pool limits (circuit breaking). */
  connectionPool?: ConnectionPoolSettings;
}

export interface JWTHeader {
  name: string;
  prefix?: string;
}

export interface JWTRule {
  issuer: string;
  audiences?: string[];
  jwksUri?: string;
  /** Inline JSON Web Key Set. */
  jwks?: string;
  fromHeaders?: JWTHeader[];
  fromParams?: string[];
  outputPayloadToHeader?: string;
  fromCookies?: string[];
  forwardOriginalToken?: boolean;
  outputClaimToHeaders?: ClaimToHeader[];
  /** Timeout of fetching the JWKS. (e.g. "1.5s", "100ms"). */
  timeout?: string;
}

export interface L4MatchAttributes {
  /** Destination IP or CIDR. */
  destinationSubnets?: string[];
  /** Port of the host being addressed. */
  port?: number;
  sourceSubnet?: string;
  /** Labels the calling workload must carry. */
  sourceLabels?: Record<string, string>;
  /** Gateways this match applies to. */
  gateways?: string[];
  sourceNamespace?: string;
}

export interface Literal {
  value: string;
}

export interface LoadBalancerSettings {
  /** Standard algorithm (LEAST_REQUEST by default). */
  simple?: "UNSPECIFIED" | "LEAST_CONN" | "RANDOM" | "PASSTHROUGH" | "ROUND_ROBIN" | "LEAST_REQUEST";
  /** Session affinity by consistent hashing. */
  consistentHash?: ConsistentHashLB;
  localityLbSetting?: LocalityLoadBalancerSetting;
  /** Slow-start window for new endpoints. (e.g. "1.5s", "100ms"). */
  warmupDurationSecs?: string;
}

export interface LocalityLoadBalancerSetting {
  distribute?: Distribute[];
  failover?: Failover[];
  /** Labels to prioritise endpoints by. */
  failoverPriority?: string[];
  enabled?: boolean;
}

export interface LogSelector {
  mode?: "CLIENT_AND_SERVER" | "CLIENT" | "SERVER";
}

export interface MagLev {
  tableSize?: number;
}

export interface Metrics {
  providers?: ProviderRef[];
  overrides?: MetricsOverrides[];
  /** A duration (e.g. "1.5s", "100ms"). */
  reportingInterval?: string;
}

export interface MetricSelector {
  metric?: "ALL_METRICS" | "REQUEST_COUNT" | "REQUEST_DURATION" | "REQUEST_SIZE" | "RESPONSE_SIZE" | "TCP_OPENED_CONNECTIONS" | "TCP_CLOSED_CONNECTIONS" | "TCP_SENT_BYTES" | "TCP_RECEIVED_BYTES" | "GRPC_REQUEST_MESSAGES" | "GRPC_RESPONSE_MESSAGES";
  customMetric?: string;
  mode?: "CLIENT_AND_SERVER" | "CLIENT" | "SERVER";
}

export interface MetricsOverrides {
  match?: MetricSelector;
  disabled?: boolean;
  tagOverrides?: Record<string, TagOverride>;
}

export interface Operation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface OutboundTrafficPolicy {
  mode?: "REGISTRY_ONLY" | "ALLOW_ANY";
  /** A service (and optionally a subset and port) to send traffic to. */
  egressProxy?: Destination;
}

/** Ejects hosts that keep failing. */
export interface OutlierDetection {
  splitExternalLocalOriginErrors?: boolean;
  consecutiveLocalOriginFailures?: number;
  /** 502/503/504 in a row before ejection. */
  consecutiveGatewayErrors?: number;
  /** 5xx in a row before ejection. */
  consecutive5xxErrors?: number;
  /** Time between ejection sweeps. (e.g. "1.5s", "100ms"). */
  interval?: string;
  /** Minimum ejection duration (grows with each ejection). (e.g. "1.5s", "100ms"). */
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
  minHealthPercent?: number;
  /** Deprecated: use consecutiveGatewayErrors. */
  consecutiveErrors?: number;
}

/** Mutual TLS mode. */
export interface PeerAuthenticationMutualTLS {
  /** PERMISSIVE by default. */
  mode?: "UNSET" | "DISABLE" | "PERMISSIVE" | "STRICT";
}

/** Which mTLS mode workloads accept. */
export interface PeerAuthenticationSpec {
  /** Selects workloads by their labels. */
  selector?: PolicyWorkloadSelector;
  /** Mutual TLS mode. */
  mtls?: PeerAuthenticationMutualTLS;
  /** Per workload port (port number as key). */
  portLevelMtls?: Record<string, PeerAuthenticationMutualTLS>;
}

/** A percentage. */
export interface Percent {
  /** A percentage in the range 0.0 to 100.0. */
  value?: number;
}

/** A resource a policy attaches to. */
export interface PolicyTargetReference {
  /** API group of the target resource. */
  group?: string;
  /** Kind of the target resource. */
  kind: string;
  /** Name of the target resource. */
  name: string;
  /** Namespace of the target resource (defaults to the policy namespace). */
  namespace?: string;
}

/** Selects workloads by their labels. */
export interface PolicyWorkloadSelector {
  /** Labels a workload must carry for this configuration to apply to it. */
  matchLabels?: Record<string, string>;
}

export interface Port {
  /** Port number. */
  number: number;
  /** HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, MONGO, TCP or TLS. */
  protocol: string;
  /** Label for the port. */
  name?: string;
  /** Port on the workload (deprecated in Istio). */
  targetPort?: number;
}

/** A port of the destination service. */
export interface PortSelector {
  /** A valid non-negative integer port number. */
  number?: number;
}

export interface PortTrafficPolicy {
  /** A port of the destination service. */
  port?: PortSelector;
  loadBalancer?: LoadBalancerSettings;
  /** Connection pool limits (circuit breaking). */
  connectionPool?: ConnectionPoolSettings;
  /** Ejects hosts that keep failing. */
  outlierDetection?: OutlierDetection;
  /** TLS settings for connections to the upstream. */
  tls?: ClientTLSSettings;
}

export interface ProviderRef {
  name: string;
}

export interface ProxyProtocol {
  version?: "V1" | "V2";
}

export interface ReadinessProbe {
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  httpGet?: HTTPHealthCheckConfig;
  tcpSocket?: TCPHealthCheckConfig;
  exec?: ExecHealthCheckConfig;
  grpc?: GrpcHealthCheckConfig;
}

export interface RegexRewrite {
  /** RE2 pattern to match in the path. (RE2 syntax). */
  match?: string;
  /** Replacement; \1 refers to capture groups. */
  rewrite?: string;
}

/** Which JWTs a workload accepts. */
export interface RequestAuthenticationSpec {
  /** Selects workloads by their labels. */
  selector?: PolicyWorkloadSelector;
  /** A resource a policy attaches to. */
  targetRef?: PolicyTargetReference;
  /** Resources this applies to. */
  targetRefs?: PolicyTargetReference[];
  jwtRules?: JWTRule[];
}

export interface RequestHeader {
  name: string;
  defaultValue?: string;
}

export interface RingHash {
  minimumRingSize?: number;
}

/** An L4 destination with its share of the traffic. */
export interface RouteDestination {
  /** A service (and optionally a subset and port) to send traffic to. */
  destination: Destination;
  /** Relative share of the traffic. */
  weight?: number;
}

export interface Rule {
  from?: RuleFrom[];
  to?: RuleTo[];
  when?: Condition[];
}

export interface RuleFrom {
  source?: Source;
}

export interface RuleTo {
  operation?: Operation;
}

export interface Server {
  port: Port;
  /** Address to bind to. */
  bind?: string;
  /** Hosts exposed by this server, optionally "namespace/host". */
  hosts: string[];
  tls?: ServerTLSSettings;
  defaultEndpoint?: string;
  name?: string;
}

export interface ServerTLSSettings {
  /** Redirect plain HTTP to HTTPS. */
  httpsRedirect?: boolean;
  mode?: "PASSTHROUGH" | "SIMPLE" | "MUTUAL" | "AUTO_PASSTHROUGH" | "ISTIO_MUTUAL" | "OPTIONAL_MUTUAL";
  serverCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  caCrl?: string;
  /** Secret holding the certificate and key. */
  credentialName?: string;
  credentialNames?: string[];
  subjectAltNames?: string[];
  verifyCertificateSpki?: string[];
  verifyCertificateHash?: string[];
  /** Minimum TLS version. */
  minProtocolVersion?: "TLS_AUTO" | "TLSV1_0" | "TLSV1_1" | "TLSV1_2" | "TLSV1_3";
  /** Maximum TLS version. */
  maxProtocolVersion?: "TLS_AUTO" | "TLSV1_0" | "TLSV1_1" | "TLSV1_2" | "TLSV1_3";
  cipherSuites?: string[];
}

/** Adds a service to the mesh registry. */
export interface ServiceEntrySpec {
  /** Hosts of the service. */
  hosts: string[];
  /** Virtual IPs or CIDRs of the service. */
  addresses?: string[];
  ports?: ServicePort[];
  location?: "MESH_EXTERNAL" | "MESH_INTERNAL";
  resolution?: "NONE" | "STATIC" | "DNS" | "DNS_ROUND_ROBIN";
  endpoints?: WorkloadEntrySpec[];
  /** Selects workloads by their labels. */
  workloadSelector?: WorkloadSelector;
  /** Namespaces this configuration is visible to ("." this one, "*" all). */
  exportTo?: string[];
  subjectAltNames?: string[];
}

export interface ServicePort {
  /** Port number. */
  number: number;
  /** HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP or TLS. */
  protocol?: string;
  /** Label for the port. */
  name: string;
  /** Port on the endpoints. */
  targetPort?: number;
}

export interface SidecarPort {
  number: number;
  protocol?: string;
  name?: string;
  targetPort?: number;
}

/** Scope and listeners of the sidecars it selects. */
export interface SidecarSpec {
  /** Selects workloads by their labels. */
  workloadSelector?: WorkloadSelector;
  ingress?: IstioIngressListener[];
  egress?: IstioEgressListener[];
  outboundTrafficPolicy?: OutboundTrafficPolicy;
  /** Connection pool limits (circuit breaking). */
  inboundConnectionPool?: ConnectionPoolSettings;
}

export interface Source {
  /** Peer identities ("cluster.local/ns/NS/sa/SA"). */
  principals?: string[];
  notPrincipals?: string[];
  /** JWT "iss/sub" values. */
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  /** Peer namespaces. */
  namespaces?: string[];
  notNamespaces?: string[];
  /** Source IPs or CIDRs. */
  ipBlocks?: string[];
  /** Excluded source IPs or CIDRs. */
  notIpBlocks?: string[];
  /** Original client IPs or CIDRs. */
  remoteIpBlocks?: string[];
  /** Excluded original client IPs or CIDRs. */
  notRemoteIpBlocks?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
}

/** How to match a string: exactly, by prefix, or by RE2 regex. */
export interface StringMatch {
  /** Exact string match. */
  exact?: string;
  /** Prefix match. */
  prefix?: string;
  /** RE2 regular expression; the whole value must match. (RE2 syntax). */
  regex?: string;
}

export interface Subset {
  name: string;
  /** Labels that select the subset. */
  labels?: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}

export interface TagOverride {
  operation?: "UPSERT" | "REMOVE";
  value?: string;
}

export interface TCPHealthCheckConfig {
  host?: string;
  port?: number;
}

export interface TcpKeepalive {
  probes?: number;
  /** A duration (e.g. "1.5s", "100ms"). */
  time?: string;
  /** A duration (e.g. "1.5s", "100ms"). */
  interval?: string;
}

/** Rules for opaque TCP traffic. */
export interface TCPRoute {
  match?: L4MatchAttributes[];
  route?: RouteDestination[];
}

export interface TCPSettings {
  /** Maximum connections to a destination host. */
  maxConnections?: number;
  /** TCP connect timeout. (e.g. "1.5s", "100ms"). */
  connectTimeout?: string;
  tcpKeepalive?: TcpKeepalive;
  /** A duration (e.g. "1.5s", "100ms"). */
  maxConnectionDuration?: string;
  /** A duration (e.g. "1.5s", "100ms"). */
  idleTimeout?: string;
}

/** Tracing, metrics and access logging for the workloads it selects. */
export interface TelemetrySpec {
  /** Selects workloads by their labels. */
  selector?: PolicyWorkloadSelector;
  /** A resource a policy attaches to. */
  targetRef?: PolicyTargetReference;
  /** Resources this applies to. */
  targetRefs?: PolicyTargetReference[];
  tracing?: Tracing[];
  metrics?: Metrics[];
  accessLogging?: AccessLogging[];
}

export interface TLSMatchAttributes {
  /** SNI values to match. */
  sniHosts: string[];
  /** Destination IP or CIDR. */
  destinationSubnets?: string[];
  /** Port of the host being addressed. */
  port?: number;
  /** Labels the calling workload must carry. */
  sourceLabels?: Record<string, string>;
  /** Gateways this match applies to. */
  gateways?: string[];
  sourceNamespace?: string;
}

/** Rules for TLS and HTTPS traffic routed by SNI, unterminated. */
export interface TLSRoute {
  match: TLSMatchAttributes[];
  route?: RouteDestination[];
}

export interface Tracing {
  match?: TracingSelector;
  providers?: ProviderRef[];
  /** Share of requests traced, 0-100. */
  randomSamplingPercentage?: number;
  disableSpanReporting?: boolean;
  customTags?: Record<string, CustomTag>;
  useRequestIdForTraceSampling?: boolean;
  enableIstioTags?: boolean;
}

export interface TracingSelector {
  mode?: "CLIENT_AND_SERVER" | "CLIENT" | "SERVER";
}

export interface TrafficPolicy {
  loadBalancer?: LoadBalancerSettings;
  /** Connection pool limits (circuit breaking). */
  connectionPool?: ConnectionPoolSettings;
  /** Ejects hosts that keep failing. */
  outlierDetection?: OutlierDetection;
  /** TLS settings for connections to the upstream. */
  tls?: ClientTLSSettings;
  portLevelSettings?: PortTrafficPolicy[];
  tunnel?: TunnelSettings;
  proxyProtocol?: ProxyProtocol;
}

export interface TunnelSettings {
  protocol?: string;
  targetHost: string;
  targetPort: number;
}

/** Routing rules for traffic addressed to a host. */
export interface VirtualServiceSpec {
  /** Hosts these rules apply to. */
  hosts?: string[];
  /** Gateways (and "mesh" for sidecars) these rules apply to. */
  gateways?: string[];
  http?: HTTPRoute[];
  tls?: TLSRoute[];
  tcp?: TCPRoute[];
  /** Namespaces this configuration is visible to ("." this one, "*" all). */
  exportTo?: string[];
}

/** A workload outside Kubernetes. */
export interface WorkloadEntrySpec {
  /** IP address, DNS name or unix:// socket of the workload. */
  address?: string;
  /** Port name to the workload port number. */
  ports?: Record<string, number>;
  /** Labels of the workload. */
  labels?: Record<string, string>;
  network?: string;
  /** region/zone/subzone. */
  locality?: string;
  /** Load balancing weight. */
  weight?: number;
  /** Identity of the workload. */
  serviceAccount?: string;
}

export interface WorkloadGroupObjectMeta {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface WorkloadGroupSpec {
  metadata?: WorkloadGroupObjectMeta;
  /** A workload outside Kubernetes. */
  template: WorkloadEntrySpec;
  probe?: ReadinessProbe;
}

/** Selects workloads by their labels. */
export interface WorkloadSelector {
  /** Labels a workload must carry for this configuration to apply to it. */
  labels?: Record<string, string>;
}

/** networking.istio.io VirtualService (v1, v1beta1, v1alpha3). */
export interface VirtualService {
  apiVersion: "networking.istio.io/v1" | "networking.istio.io/v1beta1" | "networking.istio.io/v1alpha3";
  kind: 'VirtualService';
  metadata: ObjectMeta;
  spec: VirtualServiceSpec;
  status?: Record<string, unknown>;
}

/** networking.istio.io DestinationRule (v1, v1beta1, v1alpha3). */
export interface DestinationRule {
  apiVersion: "networking.istio.io/v1" | "networking.istio.io/v1beta1" | "networking.istio.io/v1alpha3";
  kind: 'DestinationRule';
  metadata: ObjectMeta;
  spec: DestinationRuleSpec;
  status?: Record<string, unknown>;
}

/** networking.istio.io Gateway (v1, v1beta1, v1alpha3). */
export interface Gateway {
  apiVersion: "networking.istio.io/v1" | "networking.istio.io/v1beta1" | "networking.istio.io/v1alpha3";
  kind: 'Gateway';
  metadata: ObjectMeta;
  spec: GatewaySpec;
  status?: Record<string, unknown>;
}

/** networking.istio.io ServiceEntry (v1, v1beta1, v1alpha3). */
export interface ServiceEntry {
  apiVersion: "networking.istio.io/v1" | "networking.istio.io/v1beta1" | "networking.istio.io/v1alpha3";
  kind: 'ServiceEntry';
  metadata: ObjectMeta;
  spec: ServiceEntrySpec;
  status?: Record<string, unknown>;
}

/** networking.istio.io Sidecar (v1, v1beta1, v1alpha3). */
export interface Sidecar {
  apiVersion: "networking.istio.io/v1" | "networking.istio.io/v1beta1" | "networking.istio.io/v1alpha3";
  kind: 'Sidecar';
  metadata: ObjectMeta;
  spec: SidecarSpec;
  status?: Record<string, unknown>;
}

/** networking.istio.io WorkloadEntry (v1, v1beta1, v1alpha3). */
export interface WorkloadEntry {
  apiVersion: "networking.istio.io/v1" | "networking.istio.io/v1beta1" | "networking.istio.io/v1alpha3";
  kind: 'WorkloadEntry';
  metadata: ObjectMeta;
  spec: WorkloadEntrySpec;
  status?: Record<string, unknown>;
}

/** networking.istio.io WorkloadGroup (v1, v1beta1, v1alpha3). */
export interface WorkloadGroup {
  apiVersion: "networking.istio.io/v1" | "networking.istio.io/v1beta1" | "networking.istio.io/v1alpha3";
  kind: 'WorkloadGroup';
  metadata: ObjectMeta;
  spec: WorkloadGroupSpec;
  status?: Record<string, unknown>;
}

/** networking.istio.io EnvoyFilter (v1alpha3). */
export interface EnvoyFilter {
  apiVersion: "networking.istio.io/v1alpha3";
  kind: 'EnvoyFilter';
  metadata: ObjectMeta;
  spec: EnvoyFilterSpec;
  status?: Record<string, unknown>;
}

/** security.istio.io PeerAuthentication (v1, v1beta1). */
export interface PeerAuthentication {
  apiVersion: "security.istio.io/v1" | "security.istio.io/v1beta1";
  kind: 'PeerAuthentication';
  metadata: ObjectMeta;
  spec: PeerAuthenticationSpec;
  status?: Record<string, unknown>;
}

/** security.istio.io AuthorizationPolicy (v1, v1beta1). */
export interface AuthorizationPolicy {
  apiVersion: "security.istio.io/v1" | "security.istio.io/v1beta1";
  kind: 'AuthorizationPolicy';
  metadata: ObjectMeta;
  spec: AuthorizationPolicySpec;
  status?: Record<string, unknown>;
}

/** security.istio.io RequestAuthentication (v1, v1beta1). */
export interface RequestAuthentication {
  apiVersion: "security.istio.io/v1" | "security.istio.io/v1beta1";
  kind: 'RequestAuthentication';
  metadata: ObjectMeta;
  spec: RequestAuthenticationSpec;
  status?: Record<string, unknown>;
}

/** telemetry.istio.io Telemetry (v1, v1alpha1). */
export interface Telemetry {
  apiVersion: "telemetry.istio.io/v1" | "telemetry.istio.io/v1alpha1";
  kind: 'Telemetry';
  metadata: ObjectMeta;
  spec: TelemetrySpec;
  status?: Record<string, unknown>;
}

/** Any mesh object. */
export type MeshObject = VirtualService | DestinationRule | Gateway | ServiceEntry | Sidecar | WorkloadEntry | WorkloadGroup | EnvoyFilter | PeerAuthentication | AuthorizationPolicy | RequestAuthentication | Telemetry;

/** The kind names of the mesh API. */
export type MeshKind = MeshObject['kind'];
