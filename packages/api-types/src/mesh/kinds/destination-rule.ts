// networking.istio.io DestinationRule: policies for traffic after routing (subsets, load
// balancing, connection pools, outlier detection, TLS).
import {
  arr,
  bool,
  duration,
  enumOf,
  int32,
  map,
  obj,
  str,
  strings,
  stringMap,
  uint32,
  type Check,
} from '../schema/dsl.js';
import { PolicyWorkloadSelector, PortSelector, exactlyOne, exportTo } from './common.js';

const HTTPCookie = obj(
  'HTTPCookie',
  { name: str(), path: str(), ttl: duration('Lifetime of the generated cookie.') },
  { required: ['name'] },
);

const ConsistentHashLB = obj(
  'ConsistentHashLB',
  {
    httpHeaderName: str({ doc: 'Hash on this request header.' }),
    httpCookie: HTTPCookie,
    useSourceIp: bool('Hash on the source IP.'),
    httpQueryParameterName: str({ doc: 'Hash on this query parameter.' }),
    ringHash: obj('RingHash', { minimumRingSize: uint32() }),
    maglev: obj('MagLev', { tableSize: uint32() }),
    minimumRingSize: uint32({ doc: 'Deprecated: use ringHash.minimumRingSize.' }),
  },
  {
    checks: [exactlyOne(['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'])],
    doc: 'Session affinity by consistent hashing.',
  },
);

const LocalityLoadBalancerSetting = obj('LocalityLoadBalancerSetting', {
  distribute: arr(obj('Distribute', { from: str(), to: map(uint32()) })),
  failover: arr(obj('Failover', { from: str(), to: str() })),
  failoverPriority: strings('Labels to prioritise endpoints by.'),
  enabled: bool(),
});

const LoadBalancerSettings = obj(
  'LoadBalancerSettings',
  {
    simple: enumOf(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'], {
      doc: 'Standard algorithm (LEAST_REQUEST by default).',
    }),
    consistentHash: ConsistentHashLB,
    localityLbSetting: LocalityLoadBalancerSetting,
    warmupDurationSecs: duration('Slow-start window for new endpoints.'),
  },
  { oneOf: [['simple', 'consistentHash']] },
);

const TCPSettings = obj('TCPSettings', {
  maxConnections: int32({ min: 0, doc: 'Maximum connections to a destination host.' }),
  connectTimeout: duration('TCP connect timeout.'),
  tcpKeepalive: obj('TcpKeepalive', { probes: uint32(), time: duration(), interval: duration() }),
  maxConnectionDuration: duration(),
  idleTimeout: duration(),
});

const HTTPSettings = obj('HTTPSettings', {
  http1MaxPendingRequests: int32({ min: 0, doc: 'Maximum queued requests.' }),
  http2MaxRequests: int32({ min: 0, doc: 'Maximum active requests.' }),
  maxRequestsPerConnection: int32({ min: 0, doc: 'Requests per connection (0: unlimited).' }),
  maxRetries: int32({ min: 0, doc: 'Maximum outstanding retries.' }),
  idleTimeout: duration('Idle timeout of upstream connections.'),
  h2UpgradePolicy: enumOf(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']),
  useClientProtocol: bool(),
  maxConcurrentStreams: int32({ min: 0 }),
});

export const ConnectionPoolSettings = obj(
  'ConnectionPoolSettings',
  { tcp: TCPSettings, http: HTTPSettings },
  { doc: 'Connection pool limits (circuit breaking).' },
);

const OutlierDetection = obj(
  'OutlierDetection',
  {
    splitExternalLocalOriginErrors: bool(),
    consecutiveLocalOriginFailures: uint32(),
    consecutiveGatewayErrors: uint32({ doc: '502/503/504 in a row before ejection.' }),
    consecutive5xxErrors: uint32({ doc: '5xx in a row before ejection.' }),
    interval: duration('Time between ejection sweeps.'),
    baseEjectionTime: duration('Minimum ejection duration (grows with each ejection).'),
    maxEjectionPercent: int32({ min: 0, max: 100 }),
    minHealthPercent: int32({ min: 0, max: 100 }),
    consecutiveErrors: int32({ min: 0, doc: 'Deprecated: use consecutiveGatewayErrors.' }),
  },
  { doc: 'Ejects hosts that keep failing.' },
);

const checkClientTls: Check = (value, path, report) => {
  const v = value as Record<string, unknown>;
  if (v.mode === 'MUTUAL' && !v.credentialName && !(v.clientCertificate && v.privateKey))
    report(path, 'mode MUTUAL needs credentialName, or clientCertificate and privateKey');
};

export const ClientTLSSettings = obj(
  'ClientTLSSettings',
  {
    mode: enumOf(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']),
    clientCertificate: str(),
    privateKey: str(),
    caCertificates: str(),
    credentialName: str(),
    subjectAltNames: strings(),
    sni: str(),
    insecureSkipVerify: bool(),
    caCrl: str(),
  },
  { checks: [checkClientTls], doc: 'TLS settings for connections to the upstream.' },
);

const policyFields = {
  loadBalancer: LoadBalancerSettings,
  connectionPool: ConnectionPoolSettings,
  outlierDetection: OutlierDetection,
  tls: ClientTLSSettings,
};

const PortTrafficPolicy = obj('PortTrafficPolicy', { port: PortSelector, ...policyFields });

const TrafficPolicy = obj('TrafficPolicy', {
  ...policyFields,
  portLevelSettings: arr(PortTrafficPolicy),
  tunnel: obj(
    'TunnelSettings',
    { protocol: str(), targetHost: str(), targetPort: uint32() },
    { required: ['targetHost', 'targetPort'] },
  ),
  proxyProtocol: obj('ProxyProtocol', { version: enumOf(['V1', 'V2']) }),
});

const Subset = obj(
  'Subset',
  { name: str(), labels: stringMap('Labels that select the subset.'), trafficPolicy: TrafficPolicy },
  { required: ['name'] },
);

export const DestinationRuleSpec = obj(
  'DestinationRuleSpec',
  {
    host: str({ doc: 'The service this applies to.' }),
    trafficPolicy: TrafficPolicy,
    subsets: arr(Subset, {
      checks: [
        (value, path, report) => {
          const seen = new Set<unknown>();
          (value as { name?: unknown }[]).forEach((s, i) => {
            if (seen.has(s?.name))
              report(`${path}[${i}].name`, `duplicate subset name ${JSON.stringify(s?.name)}`);
            seen.add(s?.name);
          });
        },
      ],
    }),
    exportTo,
    workloadSelector: PolicyWorkloadSelector,
  },
  { required: ['host'], doc: 'Policies for traffic to a service after routing.' },
);
