// DestinationRule traffic policy → cluster settings: the effective policy for a port and subset
// (top level < port level < subset < subset port level, each setting replaced whole, as Istio
// merges), then load balancing, connection pool, outlier detection and DestinationRule TLS.
import type { clusterV3 } from '@skein/api-types';
import type {
  ClientTLSSettings,
  ConnectionPoolSettings,
  DestinationRule,
  LoadBalancerSettings,
  OutlierDetection,
  TrafficPolicy,
} from '../model/istio-types.js';
import { isHttp2, type Protocol } from '../model/protocol.js';
import { ADS_CONFIG_SOURCE, duration, MAX_UINT32, T, typed } from './envoy.js';

export interface EffectivePolicy {
  loadBalancer?: LoadBalancerSettings | undefined;
  connectionPool?: ConnectionPoolSettings | undefined;
  outlierDetection?: OutlierDetection | undefined;
  tls?: ClientTLSSettings | undefined;
}

function overlay(base: EffectivePolicy, tp: TrafficPolicy | undefined, port: number): EffectivePolicy {
  if (!tp) return base;
  const out: EffectivePolicy = { ...base };
  for (const layer of [tp, tp.portLevelSettings?.find((p) => p.port?.number === port)]) {
    if (!layer) continue;
    if (layer.loadBalancer) out.loadBalancer = layer.loadBalancer;
    if (layer.connectionPool) out.connectionPool = layer.connectionPool;
    if (layer.outlierDetection) out.outlierDetection = layer.outlierDetection;
    if (layer.tls) out.tls = layer.tls;
  }
  return out;
}

export function effectivePolicy(
  dr: DestinationRule | undefined,
  port: number,
  subset: string,
): EffectivePolicy {
  if (!dr) return {};
  const top = overlay({}, dr.spec.trafficPolicy, port);
  const sub = subset ? dr.spec.subsets?.find((s) => s.name === subset) : undefined;
  return overlay(top, sub?.trafficPolicy, port);
}

type ClusterJson = clusterV3.ClusterJson;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Sets lbPolicy and friends. `grpc` clients support ROUND_ROBIN and RING_HASH only, so their
 * default is ROUND_ROBIN; Envoy sidecars default to LEAST_REQUEST (Istio's default).
 */
export function applyLoadBalancer(
  c: Mutable<ClusterJson>,
  lb: LoadBalancerSettings | undefined,
  grpc: boolean,
): void {
  const ch = lb?.consistentHash;
  if (ch) {
    if (ch.maglev && !grpc) {
      c.lbPolicy = 'MAGLEV';
      if (ch.maglev.tableSize) c.maglevLbConfig = { tableSize: String(ch.maglev.tableSize) };
      return;
    }
    c.lbPolicy = 'RING_HASH';
    const min = ch.ringHash?.minimumRingSize ?? ch.minimumRingSize;
    c.ringHashLbConfig = min ? { minimumRingSize: String(min) } : {};
    return;
  }
  switch (lb?.simple) {
    case 'ROUND_ROBIN':
      c.lbPolicy = 'ROUND_ROBIN';
      return;
    case 'RANDOM':
      c.lbPolicy = grpc ? 'ROUND_ROBIN' : 'RANDOM';
      return;
    case 'PASSTHROUGH':
      c.type = 'ORIGINAL_DST';
      c.lbPolicy = 'CLUSTER_PROVIDED';
      delete c.edsClusterConfig;
      delete c.loadAssignment;
      return;
    default: // LEAST_REQUEST, LEAST_CONN, UNSPECIFIED
      c.lbPolicy = grpc ? 'ROUND_ROBIN' : 'LEAST_REQUEST';
  }
}

export function applyConnectionPool(
  c: Mutable<ClusterJson>,
  pool: ConnectionPoolSettings | undefined,
  protocol: Protocol,
  defaultConnectTimeout: string,
): void {
  c.connectTimeout = duration(pool?.tcp?.connectTimeout ?? defaultConnectTimeout);
  c.circuitBreakers = {
    thresholds: [
      {
        maxConnections: pool?.tcp?.maxConnections ?? MAX_UINT32,
        maxPendingRequests: pool?.http?.http1MaxPendingRequests ?? MAX_UINT32,
        maxRequests: pool?.http?.http2MaxRequests ?? MAX_UINT32,
        maxRetries: pool?.http?.maxRetries ?? MAX_UINT32,
        trackRemaining: true,
      },
    ],
  };
  const ka = pool?.tcp?.tcpKeepalive;
  if (ka) {
    c.upstreamConnectionOptions = {
      tcpKeepalive: {
        ...(ka.probes !== undefined ? { keepaliveProbes: ka.probes } : {}),
        ...(ka.time ? { keepaliveTime: Math.round(Number(duration(ka.time).slice(0, -1))) } : {}),
        ...(ka.interval ? { keepaliveInterval: Math.round(Number(duration(ka.interval).slice(0, -1))) } : {}),
      },
    };
  }
  const common: Record<string, unknown> = {};
  if (pool?.http?.idleTimeout) common['idleTimeout'] = duration(pool.http.idleTimeout);
  if (pool?.http?.maxRequestsPerConnection)
    common['maxRequestsPerConnection'] = pool.http.maxRequestsPerConnection;
  const h2 = isHttp2(protocol) || pool?.http?.h2UpgradePolicy === 'UPGRADE';
  // A sniffed port speaks upstream whatever the client spoke (HTTP/1.1 or h2c), as in Istio.
  const sniffed = protocol === 'UNKNOWN' && !h2;
  if (h2 || sniffed || Object.keys(common).length > 0) {
    c.typedExtensionProtocolOptions = {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': typed(T.httpProtocolOptions, {
        ...(Object.keys(common).length > 0 ? { commonHttpProtocolOptions: common } : {}),
        ...(sniffed
          ? { useDownstreamProtocolConfig: { httpProtocolOptions: {}, http2ProtocolOptions: {} } }
          : { explicitHttpConfig: h2 ? { http2ProtocolOptions: {} } : { httpProtocolOptions: {} } }),
      }),
    };
  }
}

export function applyOutlierDetection(c: Mutable<ClusterJson>, od: OutlierDetection | undefined): void {
  if (!od) return;
  const out: Mutable<NonNullable<ClusterJson['outlierDetection']>> = {};
  if (od.consecutive5xxErrors !== undefined) {
    out.consecutive5xx = od.consecutive5xxErrors;
    out.enforcingConsecutive5xx = od.consecutive5xxErrors > 0 ? 100 : 0;
  } else out.enforcingConsecutive5xx = 0;
  if (od.consecutiveGatewayErrors !== undefined) {
    out.consecutiveGatewayFailure = od.consecutiveGatewayErrors;
    out.enforcingConsecutiveGatewayFailure = od.consecutiveGatewayErrors > 0 ? 100 : 0;
  }
  if (od.interval) out.interval = duration(od.interval);
  if (od.baseEjectionTime) out.baseEjectionTime = duration(od.baseEjectionTime);
  if (od.maxEjectionPercent !== undefined) out.maxEjectionPercent = od.maxEjectionPercent;
  c.outlierDetection = out;
  if (od.minHealthPercent !== undefined)
    c.commonLbConfig = { healthyPanicThreshold: { value: od.minHealthPercent } };
}

/**
 * DestinationRule SIMPLE / MUTUAL TLS with certificate files or a `credentialName` (SDS secrets);
 * ISTIO_MUTUAL is the security seam's.
 */
export function destinationRuleTls(
  tls: ClientTLSSettings | undefined,
  host: string,
): ClusterJson['transportSocket'] {
  if (!tls || (tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL')) return undefined;
  const common: Record<string, unknown> = {};
  if (tls.credentialName) {
    // Istio's naming: the key pair as `kubernetes://<name>`, the CA as `kubernetes://<name>-cacert`,
    // both over SDS on the ADS stream (skeind serves them from the proxy namespace's Secrets).
    const secret = `kubernetes://${tls.credentialName}`;
    if (tls.mode === 'MUTUAL')
      common['tlsCertificateSdsSecretConfigs'] = [{ name: secret, sdsConfig: ADS_CONFIG_SOURCE }];
    if (!tls.insecureSkipVerify)
      common['combinedValidationContext'] = {
        defaultValidationContext: tls.subjectAltNames?.length
          ? {
              matchTypedSubjectAltNames: tls.subjectAltNames.map((s) => ({
                sanType: 'DNS',
                matcher: { exact: s },
              })),
            }
          : {},
        validationContextSdsSecretConfig: { name: `${secret}-cacert`, sdsConfig: ADS_CONFIG_SOURCE },
      };
    return {
      name: 'envoy.transport_sockets.tls',
      typedConfig: typed(T.upstreamTls, { commonTlsContext: common, sni: tls.sni ?? host }),
    };
  }
  if (tls.caCertificates && !tls.insecureSkipVerify) {
    common['validationContext'] = {
      trustedCa: { filename: tls.caCertificates },
      ...(tls.subjectAltNames?.length
        ? {
            matchTypedSubjectAltNames: tls.subjectAltNames.map((s) => ({
              sanType: 'DNS',
              matcher: { exact: s },
            })),
          }
        : {}),
    };
  }
  if (tls.mode === 'MUTUAL' && tls.clientCertificate && tls.privateKey)
    common['tlsCertificates'] = [
      { certificateChain: { filename: tls.clientCertificate }, privateKey: { filename: tls.privateKey } },
    ];
  return {
    name: 'envoy.transport_sockets.tls',
    typedConfig: typed(T.upstreamTls, { commonTlsContext: common, sni: tls.sni ?? host }),
  };
}
