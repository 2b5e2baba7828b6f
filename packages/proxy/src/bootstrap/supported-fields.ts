// What skein-proxy implements of the Envoy v3 configuration, field by field. A field set in a
// bootstrap or xDS resource that is not listed here changes behaviour we do not provide, so it is
// reported by its path (at start for the bootstrap, as a warning and stat for xDS resources).

/** true: supported as a whole (scalar or opaque); an object: its own fields; 'typed': an Any. */
export type FieldSpec = { readonly [field: string]: true | FieldSpec | 'typed' };

const duration = true;
const metadata = true;

const socketAddress: FieldSpec = { address: true, portValue: true, protocol: true, ipv4Compat: true };
export const address: FieldSpec = { socketAddress, pipe: { path: true, mode: true } };

const cidr: FieldSpec = { addressPrefix: true, prefixLen: true };

const stringMatcher: FieldSpec = {
  exact: true,
  prefix: true,
  suffix: true,
  contains: true,
  ignoreCase: true,
  safeRegex: { regex: true, googleRe2: true },
};

const headerMatcher: FieldSpec = {
  name: true,
  exactMatch: true,
  prefixMatch: true,
  suffixMatch: true,
  containsMatch: true,
  safeRegexMatch: { regex: true, googleRe2: true },
  presentMatch: true,
  invertMatch: true,
  stringMatch: stringMatcher,
  rangeMatch: { start: true, end: true },
  treatMissingHeaderAsEmpty: true,
};

const headerValueOption: FieldSpec = {
  header: { key: true, value: true, rawValue: true },
  append: true,
  appendAction: true,
  keepEmptyValue: true,
};

const configSource: FieldSpec = {
  ads: true,
  resourceApiVersion: true,
  initialFetchTimeout: duration,
  apiConfigSource: {
    apiType: true,
    transportApiVersion: true,
    grpcServices: true,
    setNodeOnFirstMessageOnly: true,
  },
};

const transportSocket: FieldSpec = { name: true, typedConfig: 'typed' };

export const listenerFilter: FieldSpec = { name: true, typedConfig: 'typed' };
export const networkFilter: FieldSpec = { name: true, typedConfig: 'typed' };

const filterChainMatch: FieldSpec = {
  destinationPort: true,
  prefixRanges: cidr,
  sourcePrefixRanges: cidr,
  directSourcePrefixRanges: cidr,
  sourceType: true,
  sourcePorts: true,
  serverNames: true,
  transportProtocol: true,
  applicationProtocols: true,
};

const filterChain: FieldSpec = {
  filterChainMatch,
  filters: networkFilter,
  transportSocket,
  name: true,
  metadata,
};

export const listener: FieldSpec = {
  name: true,
  address,
  statPrefix: true,
  filterChains: filterChain,
  defaultFilterChain: filterChain,
  useOriginalDst: true,
  bindToPort: true,
  transparent: true,
  listenerFilters: listenerFilter,
  listenerFiltersTimeout: duration,
  continueOnListenerFiltersTimeout: true,
  trafficDirection: true,
  metadata,
  perConnectionBufferLimitBytes: true,
  drainType: true,
  accessLog: { name: true, typedConfig: 'typed', filter: true },
  connectionBalanceConfig: true,
};

const endpointAddress: FieldSpec = { address, hostname: true, healthCheckConfig: true };
const lbEndpoint: FieldSpec = {
  endpoint: endpointAddress,
  healthStatus: true,
  metadata,
  loadBalancingWeight: true,
};
export const clusterLoadAssignment: FieldSpec = {
  clusterName: true,
  endpoints: {
    locality: true,
    lbEndpoints: lbEndpoint,
    loadBalancingWeight: true,
    priority: true,
  },
  policy: { overprovisioningFactor: true, weightedPriorityHealth: true },
};

const thresholds: FieldSpec = {
  priority: true,
  maxConnections: true,
  maxPendingRequests: true,
  maxRequests: true,
  maxRetries: true,
  trackRemaining: true,
};

export const cluster: FieldSpec = {
  name: true,
  altStatName: true,
  type: true,
  edsClusterConfig: { edsConfig: configSource, serviceName: true },
  connectTimeout: duration,
  lbPolicy: true,
  loadAssignment: clusterLoadAssignment,
  circuitBreakers: { thresholds, perHostThresholds: thresholds },
  outlierDetection: {
    consecutive5xx: true,
    consecutiveGatewayFailure: true,
    interval: duration,
    baseEjectionTime: duration,
    maxEjectionTime: duration,
    maxEjectionPercent: true,
    enforcingConsecutive5xx: true,
    enforcingConsecutiveGatewayFailure: true,
    splitExternalLocalOriginErrors: true,
    consecutiveLocalOriginFailure: true,
    enforcingConsecutiveLocalOriginFailure: true,
    successRateMinimumHosts: true,
    successRateRequestVolume: true,
    successRateStdevFactor: true,
    enforcingSuccessRate: true,
    enforcingLocalOriginSuccessRate: true,
    failurePercentageThreshold: true,
    failurePercentageMinimumHosts: true,
    failurePercentageRequestVolume: true,
    enforcingFailurePercentage: true,
    enforcingFailurePercentageLocalOrigin: true,
    maxEjectionTimeJitter: duration,
    alwaysEjectOneHost: true,
    successfulActiveHealthCheckUnejectHost: true,
  },
  healthChecks: {
    timeout: duration,
    interval: duration,
    unhealthyInterval: duration,
    noTrafficInterval: duration,
    noTrafficHealthyInterval: duration,
    unhealthyEdgeInterval: duration,
    healthyEdgeInterval: duration,
    intervalJitter: duration,
    intervalJitterPercent: true,
    initialJitter: duration,
    healthyThreshold: true,
    unhealthyThreshold: true,
    reuseConnection: true,
    transportSocketMatchCriteria: true,
    httpHealthCheck: {
      host: true,
      path: true,
      expectedStatuses: true,
      requestHeadersToAdd: true,
      requestHeadersToRemove: true,
      codecClientType: true,
    },
    tcpHealthCheck: { send: true, receive: true },
    grpcHealthCheck: { serviceName: true, authority: true },
  },
  dnsLookupFamily: true,
  dnsRefreshRate: duration,
  respectDnsTtl: true,
  transportSocket,
  transportSocketMatches: true,
  metadata,
  commonLbConfig: {
    healthyPanicThreshold: true,
    localityWeightedLbConfig: true,
  },
  ringHashLbConfig: { minimumRingSize: true, maximumRingSize: true, hashFunction: true },
  maglevLbConfig: { tableSize: true },
  leastRequestLbConfig: { choiceCount: true },
  originalDstLbConfig: { useHttpHeader: true, httpHeaderName: true },
  typedExtensionProtocolOptions: true,
  http2ProtocolOptions: true,
  commonHttpProtocolOptions: {
    idleTimeout: duration,
    maxConnectionDuration: duration,
    maxStreamDuration: duration,
    maxRequestsPerConnection: true,
  },
  maxRequestsPerConnection: true,
  cleanupInterval: duration,
  perConnectionBufferLimitBytes: true,
  upstreamBindConfig: { sourceAddress: { address: true, portValue: true } },
};

const retryPolicy: FieldSpec = {
  retryOn: true,
  numRetries: true,
  perTryTimeout: duration,
  retryHostPredicate: { name: true, typedConfig: 'typed' },
  hostSelectionRetryMaxAttempts: true,
  retriableStatusCodes: true,
  retryBackOff: { baseInterval: duration, maxInterval: duration },
  retriableHeaders: headerMatcher,
};

const weightedClusters: FieldSpec = {
  clusters: {
    name: true,
    weight: true,
    requestHeadersToAdd: headerValueOption,
    requestHeadersToRemove: true,
    responseHeadersToAdd: headerValueOption,
    responseHeadersToRemove: true,
    typedPerFilterConfig: true,
    metadataMatch: true,
  },
  totalWeight: true,
};

const routeAction: FieldSpec = {
  cluster: true,
  clusterHeader: true,
  weightedClusters,
  prefixRewrite: true,
  regexRewrite: { pattern: { regex: true, googleRe2: true }, substitution: true },
  hostRewriteLiteral: true,
  autoHostRewrite: true,
  hostRewriteHeader: true,
  timeout: duration,
  idleTimeout: duration,
  retryPolicy,
  requestMirrorPolicies: { cluster: true, runtimeFraction: true },
  hashPolicy: {
    header: { headerName: true },
    cookie: { name: true, ttl: duration, path: true },
    connectionProperties: { sourceIp: true },
    queryParameter: { name: true },
    terminal: true,
  },
  upgradeConfigs: { upgradeType: true, enabled: true },
  maxStreamDuration: {
    maxStreamDuration: duration,
    grpcTimeoutHeaderMax: duration,
    grpcTimeoutHeaderOffset: duration,
  },
  maxGrpcTimeout: duration,
  clusterNotFoundResponseCode: true,
  metadataMatch: true,
  priority: true,
};

const route: FieldSpec = {
  name: true,
  match: {
    prefix: true,
    path: true,
    safeRegex: { regex: true, googleRe2: true },
    pathSeparatedPrefix: true,
    caseSensitive: true,
    headers: headerMatcher,
    queryParameters: { name: true, stringMatch: stringMatcher, presentMatch: true },
    grpc: true,
    runtimeFraction: true,
  },
  route: routeAction,
  redirect: {
    httpsRedirect: true,
    schemeRedirect: true,
    hostRedirect: true,
    portRedirect: true,
    pathRedirect: true,
    prefixRewrite: true,
    regexRewrite: { pattern: { regex: true, googleRe2: true }, substitution: true },
    responseCode: true,
    stripQuery: true,
  },
  directResponse: { status: true, body: { inlineString: true, inlineBytes: true } },
  metadata,
  decorator: true,
  typedPerFilterConfig: true,
  requestHeadersToAdd: headerValueOption,
  requestHeadersToRemove: true,
  responseHeadersToAdd: headerValueOption,
  responseHeadersToRemove: true,
  tracing: true,
};

const virtualHost: FieldSpec = {
  name: true,
  domains: true,
  routes: route,
  requireTls: true,
  requestHeadersToAdd: headerValueOption,
  requestHeadersToRemove: true,
  responseHeadersToAdd: headerValueOption,
  responseHeadersToRemove: true,
  cors: true,
  typedPerFilterConfig: true,
  retryPolicy,
  includeRequestAttemptCount: true,
  includeAttemptCountInResponse: true,
  metadata,
};

export const routeConfiguration: FieldSpec = {
  name: true,
  virtualHosts: virtualHost,
  requestHeadersToAdd: headerValueOption,
  requestHeadersToRemove: true,
  responseHeadersToAdd: headerValueOption,
  responseHeadersToRemove: true,
  validateClusters: true,
  ignorePortInHostMatching: true,
  maxDirectResponseBodySizeBytes: true,
  vhds: { configSource },
};

const httpFilter: FieldSpec = { name: true, typedConfig: 'typed', isOptional: true, disabled: true };

const hcm: FieldSpec = {
  '@type': true,
  codecType: true,
  statPrefix: true,
  rds: { configSource, routeConfigName: true },
  routeConfig: routeConfiguration,
  httpFilters: httpFilter,
  useRemoteAddress: true,
  xffNumTrustedHops: true,
  skipXffAppend: true,
  generateRequestId: true,
  preserveExternalRequestId: true,
  alwaysSetRequestIdInResponse: true,
  forwardClientCertDetails: true,
  setCurrentClientCertDetails: true,
  serverName: true,
  serverHeaderTransformation: true,
  streamIdleTimeout: duration,
  requestTimeout: duration,
  requestHeadersTimeout: duration,
  commonHttpProtocolOptions: {
    idleTimeout: duration,
    maxConnectionDuration: duration,
    maxStreamDuration: duration,
    headersWithUnderscoresAction: true,
  },
  httpProtocolOptions: true,
  http2ProtocolOptions: true,
  upgradeConfigs: { upgradeType: true, enabled: true },
  accessLog: { name: true, typedConfig: 'typed', filter: true },
  tracing: true,
  normalizePath: true,
  mergeSlashes: true,
  pathWithEscapedSlashesAction: true,
  drainTimeout: duration,
  delayedCloseTimeout: duration,
  internalAddressConfig: true,
  localReplyConfig: true,
  requestIdExtension: true,
  proxy100Continue: true,
  via: true,
};

const tcpProxy: FieldSpec = {
  '@type': true,
  statPrefix: true,
  cluster: true,
  weightedClusters: { clusters: { name: true, weight: true, metadataMatch: true } },
  idleTimeout: duration,
  accessLog: { name: true, typedConfig: 'typed', filter: true },
  maxConnectAttempts: true,
  metadataMatch: true,
};

const accessLogFile: FieldSpec = {
  '@type': true,
  path: true,
  format: true,
  logFormat: {
    textFormat: true,
    jsonFormat: true,
    textFormatSource: { inlineString: true },
    omitEmptyValues: true,
  },
};

const opaque: FieldSpec = { '@type': true };

const dataSource: FieldSpec = { inlineString: true, inlineBytes: true, filename: true };
const sdsSecretConfig: FieldSpec = { name: true, sdsConfig: configSource };
const sanMatcher: FieldSpec = { sanType: true, matcher: stringMatcher };
const validationContext: FieldSpec = {
  trustedCa: dataSource,
  matchTypedSubjectAltNames: sanMatcher,
  matchSubjectAltNames: stringMatcher,
};
const commonTlsContext: FieldSpec = {
  tlsCertificates: { certificateChain: dataSource, privateKey: dataSource },
  tlsCertificateSdsSecretConfigs: sdsSecretConfig,
  validationContext,
  validationContextSdsSecretConfig: sdsSecretConfig,
  combinedValidationContext: {
    defaultValidationContext: validationContext,
    validationContextSdsSecretConfig: sdsSecretConfig,
  },
  alpnProtocols: true,
  tlsParams: { tlsMinimumProtocolVersion: true, tlsMaximumProtocolVersion: true },
};
const anything = new Proxy({}, { get: () => true, has: () => true }) as FieldSpec;

const P = 'type.googleapis.com/envoy.extensions.';
/** The typed extensions we implement, by type URL. */
export const typedSpecs: Readonly<Record<string, FieldSpec>> = {
  [`${P}filters.network.http_connection_manager.v3.HttpConnectionManager`]: hcm,
  [`${P}filters.network.tcp_proxy.v3.TcpProxy`]: tcpProxy,
  [`${P}filters.http.router.v3.Router`]: { '@type': true, suppressEnvoyHeaders: true, startChildSpan: true },
  [`${P}filters.http.fault.v3.HTTPFault`]: {
    '@type': true,
    delay: { fixedDelay: duration, headerDelay: true, percentage: { numerator: true, denominator: true } },
    abort: {
      httpStatus: true,
      grpcStatus: true,
      headerAbort: true,
      percentage: { numerator: true, denominator: true },
    },
    maxActiveFaults: true,
    headers: headerMatcher,
    upstreamCluster: true,
    downstreamNodes: true,
  },
  [`${P}filters.http.cors.v3.Cors`]: opaque,
  [`${P}filters.http.jwt_authn.v3.JwtAuthentication`]: anything,
  [`${P}filters.http.rbac.v3.RBAC`]: { '@type': true, rules: true, shadowRules: true },
  [`${P}filters.http.rbac.v3.RBACPerRoute`]: { '@type': true, rbac: true },
  [`${P}filters.network.rbac.v3.RBAC`]: { '@type': true, rules: true, statPrefix: true, shadowRules: true },
  [`${P}filters.http.cors.v3.CorsPolicy`]: anything,
  [`${P}filters.http.header_mutation.v3.HeaderMutation`]: anything,
  [`${P}filters.listener.tls_inspector.v3.TlsInspector`]: opaque,
  [`${P}filters.listener.http_inspector.v3.HttpInspector`]: opaque,
  [`${P}filters.listener.original_dst.v3.OriginalDst`]: opaque,
  // bind_port: upstream connections always take an ephemeral port (Envoy's default).
  [`${P}filters.listener.original_src.v3.OriginalSrc`]: { '@type': true, mark: true },
  [`${P}access_loggers.file.v3.FileAccessLog`]: accessLogFile,
  [`${P}access_loggers.stream.v3.StdoutAccessLog`]: {
    '@type': true,
    logFormat: accessLogFile['logFormat'] as FieldSpec,
  },
  [`${P}access_loggers.stream.v3.StderrAccessLog`]: {
    '@type': true,
    logFormat: accessLogFile['logFormat'] as FieldSpec,
  },
  [`${P}retry.host.previous_hosts.v3.PreviousHostsPredicate`]: opaque,
  [`${P}transport_sockets.raw_buffer.v3.RawBuffer`]: opaque,
  [`${P}transport_sockets.tls.v3.UpstreamTlsContext`]: { '@type': true, commonTlsContext, sni: true },
  [`${P}transport_sockets.tls.v3.DownstreamTlsContext`]: {
    '@type': true,
    commonTlsContext,
    requireClientCertificate: true,
  },
  [`${P}upstreams.http.v3.HttpProtocolOptions`]: anything,
  // The `istio.stats` filter's config (stats/stats-config.ts); other Struct configs are refused there.
  'type.googleapis.com/google.protobuf.Struct': anything,
};

export const bootstrap: FieldSpec = {
  node: {
    id: true,
    cluster: true,
    metadata: true,
    locality: true,
    userAgentName: true,
    userAgentVersion: true,
  },
  admin: { address, accessLogPath: true, accessLog: true, profilePath: true },
  staticResources: {
    listeners: listener,
    clusters: cluster,
    secrets: anything,
  },
  dynamicResources: {
    adsConfig: {
      apiType: true,
      transportApiVersion: true,
      grpcServices: {
        envoyGrpc: { clusterName: true, authority: true },
        timeout: duration,
        initialMetadata: true,
      },
      setNodeOnFirstMessageOnly: true,
      refreshDelay: duration,
    },
    ldsConfig: configSource,
    cdsConfig: configSource,
  },
  statsConfig: true,
  statsFlushInterval: duration,
  layeredRuntime: true,
  clusterManager: { localClusterName: true, outlierDetection: true },
  tracing: true,
  overloadManager: true,
  statsSinks: true,
  defaultRegexEngine: true,
  nodeContextParams: true,
  dnsResolutionConfig: true,
  typedDnsResolverConfig: true,
  useTcpForDnsLookups: true,
};

/** Paths of every field in `value` that `spec` does not list (recursing through typed Any). */
export function unsupportedFields(
  value: unknown,
  spec: FieldSpec,
  path: string,
  out: string[] = [],
): string[] {
  if (value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => unsupportedFields(v, spec, `${path}[${i}]`, out));
    return out;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const s = spec[k];
    const p = path ? `${path}.${k}` : k;
    if (s === undefined) out.push(p);
    else if (s === 'typed') {
      const type = (v as { '@type'?: string } | null)?.['@type'];
      const inner = type ? typedSpecs[type] : undefined;
      if (!inner) out.push(`${p} (${type ?? 'no @type'})`);
      else unsupportedFields(v, inner, p, out);
    } else if (s !== true) unsupportedFields(v, s, p, out);
  }
  return out;
}
