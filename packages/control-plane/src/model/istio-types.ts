// The fields of Istio's mesh API that translation reads, as structural read-only views. Objects
// validated by @skein/api-types are assignable to these; only what skeind interprets is listed.

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly annotations?: Readonly<Record<string, string>> | undefined;
  readonly creationTimestamp?: string | undefined;
  readonly resourceVersion?: string | undefined;
}

/** Any Kubernetes-style object as read from YAML or the API server. */
export interface ConfigObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly spec?: unknown;
}

type Opt<T> = T | undefined;

export interface StringMatch {
  readonly exact?: Opt<string>;
  readonly prefix?: Opt<string>;
  readonly regex?: Opt<string>;
}

export interface HTTPMatchRequest {
  readonly name?: Opt<string>;
  readonly uri?: Opt<StringMatch>;
  readonly scheme?: Opt<StringMatch>;
  readonly method?: Opt<StringMatch>;
  readonly authority?: Opt<StringMatch>;
  readonly headers?: Opt<Readonly<Record<string, StringMatch>>>;
  readonly withoutHeaders?: Opt<Readonly<Record<string, StringMatch>>>;
  readonly queryParams?: Opt<Readonly<Record<string, StringMatch>>>;
  readonly port?: Opt<number>;
  readonly sourceLabels?: Opt<Readonly<Record<string, string>>>;
  readonly sourceNamespace?: Opt<string>;
  readonly gateways?: Opt<readonly string[]>;
  readonly ignoreUriCase?: Opt<boolean>;
}

export interface PortSelector {
  readonly number?: Opt<number>;
}

export interface Destination {
  readonly host: string;
  readonly subset?: Opt<string>;
  readonly port?: Opt<PortSelector>;
}

export interface HeaderOperations {
  readonly set?: Opt<Readonly<Record<string, string>>>;
  readonly add?: Opt<Readonly<Record<string, string>>>;
  readonly remove?: Opt<readonly string[]>;
}

export interface Headers {
  readonly request?: Opt<HeaderOperations>;
  readonly response?: Opt<HeaderOperations>;
}

export interface HTTPRouteDestination {
  readonly destination: Destination;
  readonly weight?: Opt<number>;
  readonly headers?: Opt<Headers>;
}

export interface HTTPRedirect {
  readonly uri?: Opt<string>;
  readonly authority?: Opt<string>;
  readonly port?: Opt<number>;
  readonly scheme?: Opt<string>;
  readonly redirectCode?: Opt<number>;
}

export interface HTTPRewrite {
  readonly uri?: Opt<string>;
  readonly authority?: Opt<string>;
  readonly uriRegexRewrite?: Opt<{ readonly match?: Opt<string>; readonly rewrite?: Opt<string> }>;
}

export interface HTTPRetry {
  readonly attempts?: Opt<number>;
  readonly perTryTimeout?: Opt<string>;
  readonly retryOn?: Opt<string>;
  readonly retryRemoteLocalities?: Opt<boolean>;
}

export interface Percent {
  readonly value?: Opt<number>;
}

export interface HTTPFaultInjection {
  readonly delay?: Opt<{
    readonly fixedDelay?: Opt<string>;
    readonly percentage?: Opt<Percent>;
    readonly percent?: Opt<number>;
  }>;
  readonly abort?: Opt<{
    readonly httpStatus?: Opt<number>;
    readonly grpcStatus?: Opt<string | number>;
    readonly percentage?: Opt<Percent>;
  }>;
}

export interface CorsPolicy {
  readonly allowOrigins?: Opt<readonly StringMatch[]>;
  readonly allowMethods?: Opt<readonly string[]>;
  readonly allowHeaders?: Opt<readonly string[]>;
  readonly exposeHeaders?: Opt<readonly string[]>;
  readonly maxAge?: Opt<string>;
  readonly allowCredentials?: Opt<boolean>;
}

export interface HTTPDirectResponse {
  readonly status: number;
  readonly body?: Opt<{ readonly string?: Opt<string>; readonly bytes?: Opt<string> }>;
}

export interface HTTPRoute {
  readonly name?: Opt<string>;
  readonly match?: Opt<readonly HTTPMatchRequest[]>;
  readonly route?: Opt<readonly HTTPRouteDestination[]>;
  readonly redirect?: Opt<HTTPRedirect>;
  readonly directResponse?: Opt<HTTPDirectResponse>;
  readonly rewrite?: Opt<HTTPRewrite>;
  readonly timeout?: Opt<string>;
  readonly retries?: Opt<HTTPRetry>;
  readonly fault?: Opt<HTTPFaultInjection>;
  readonly mirror?: Opt<Destination>;
  readonly mirrorPercentage?: Opt<Percent>;
  readonly mirrors?: Opt<
    readonly { readonly destination: Destination; readonly percentage?: Opt<Percent> }[]
  >;
  readonly corsPolicy?: Opt<CorsPolicy>;
  readonly headers?: Opt<Headers>;
  /** A delegate VirtualService whose http routes are merged under this route's match. */
  readonly delegate?: Opt<{ readonly name: string; readonly namespace?: Opt<string> }>;
}

export interface L4MatchAttributes {
  readonly destinationSubnets?: Opt<readonly string[]>;
  readonly port?: Opt<number>;
  readonly sourceLabels?: Opt<Readonly<Record<string, string>>>;
  readonly gateways?: Opt<readonly string[]>;
  readonly sniHosts?: Opt<readonly string[]>;
}

export interface RouteDestination {
  readonly destination: Destination;
  readonly weight?: Opt<number>;
}

export interface TCPRoute {
  readonly match?: Opt<readonly L4MatchAttributes[]>;
  readonly route?: Opt<readonly RouteDestination[]>;
}

export interface TLSRoute {
  readonly match?: Opt<readonly L4MatchAttributes[]>;
  readonly route?: Opt<readonly RouteDestination[]>;
}

export interface VirtualServiceSpec {
  readonly hosts?: Opt<readonly string[]>;
  readonly gateways?: Opt<readonly string[]>;
  readonly http?: Opt<readonly HTTPRoute[]>;
  readonly tcp?: Opt<readonly TCPRoute[]>;
  readonly tls?: Opt<readonly TLSRoute[]>;
  readonly exportTo?: Opt<readonly string[]>;
}

export interface ConsistentHashLB {
  readonly httpHeaderName?: Opt<string>;
  readonly httpCookie?: Opt<{
    readonly name: string;
    readonly path?: Opt<string>;
    readonly ttl?: Opt<string>;
  }>;
  readonly useSourceIp?: Opt<boolean>;
  readonly httpQueryParameterName?: Opt<string>;
  readonly minimumRingSize?: Opt<number>;
  readonly ringHash?: Opt<{ readonly minimumRingSize?: Opt<number> }>;
  readonly maglev?: Opt<{ readonly tableSize?: Opt<number> }>;
}

export interface LocalityLoadBalancerSetting {
  readonly distribute?: Opt<
    readonly { readonly from?: Opt<string>; readonly to?: Opt<Readonly<Record<string, number>>> }[]
  >;
  readonly failover?: Opt<readonly { readonly from?: Opt<string>; readonly to?: Opt<string> }[]>;
  readonly failoverPriority?: Opt<readonly string[]>;
  readonly enabled?: Opt<boolean>;
}

export interface LoadBalancerSettings {
  readonly simple?: Opt<string>;
  readonly consistentHash?: Opt<ConsistentHashLB>;
  readonly localityLbSetting?: Opt<LocalityLoadBalancerSetting>;
}

export interface ConnectionPoolSettings {
  readonly tcp?: Opt<{
    readonly maxConnections?: Opt<number>;
    readonly connectTimeout?: Opt<string>;
    readonly tcpKeepalive?: Opt<{
      readonly probes?: Opt<number>;
      readonly time?: Opt<string>;
      readonly interval?: Opt<string>;
    }>;
  }>;
  readonly http?: Opt<{
    readonly http1MaxPendingRequests?: Opt<number>;
    readonly http2MaxRequests?: Opt<number>;
    readonly maxRequestsPerConnection?: Opt<number>;
    readonly maxRetries?: Opt<number>;
    readonly idleTimeout?: Opt<string>;
    readonly h2UpgradePolicy?: Opt<string>;
    readonly maxConcurrentStreams?: Opt<number>;
  }>;
}

export interface OutlierDetection {
  readonly consecutive5xxErrors?: Opt<number>;
  readonly consecutiveGatewayErrors?: Opt<number>;
  readonly interval?: Opt<string>;
  readonly baseEjectionTime?: Opt<string>;
  readonly maxEjectionPercent?: Opt<number>;
  readonly minHealthPercent?: Opt<number>;
}

export interface ClientTLSSettings {
  readonly mode?: Opt<string>;
  readonly clientCertificate?: Opt<string>;
  readonly privateKey?: Opt<string>;
  readonly caCertificates?: Opt<string>;
  readonly credentialName?: Opt<string>;
  readonly subjectAltNames?: Opt<readonly string[]>;
  readonly sni?: Opt<string>;
  readonly insecureSkipVerify?: Opt<boolean>;
}

export interface PortTrafficPolicy {
  readonly port?: Opt<PortSelector>;
  readonly loadBalancer?: Opt<LoadBalancerSettings>;
  readonly connectionPool?: Opt<ConnectionPoolSettings>;
  readonly outlierDetection?: Opt<OutlierDetection>;
  readonly tls?: Opt<ClientTLSSettings>;
}

export interface TrafficPolicy {
  readonly loadBalancer?: Opt<LoadBalancerSettings>;
  readonly connectionPool?: Opt<ConnectionPoolSettings>;
  readonly outlierDetection?: Opt<OutlierDetection>;
  readonly tls?: Opt<ClientTLSSettings>;
  readonly portLevelSettings?: Opt<readonly PortTrafficPolicy[]>;
}

export interface Subset {
  readonly name: string;
  readonly labels?: Opt<Readonly<Record<string, string>>>;
  readonly trafficPolicy?: Opt<TrafficPolicy>;
}

export interface DestinationRuleSpec {
  readonly host: string;
  readonly trafficPolicy?: Opt<TrafficPolicy>;
  readonly subsets?: Opt<readonly Subset[]>;
  readonly exportTo?: Opt<readonly string[]>;
  readonly workloadSelector?: Opt<TypeWorkloadSelector>;
}

/** networking.istio.io's selector (ServiceEntry, Sidecar, Gateway-less kinds): `labels`. */
export interface WorkloadSelector {
  readonly labels?: Opt<Readonly<Record<string, string>>>;
}

/** istio.type.v1beta1.WorkloadSelector (DestinationRule, security and telemetry kinds): `matchLabels`. */
export interface TypeWorkloadSelector {
  readonly matchLabels?: Opt<Readonly<Record<string, string>>>;
}

export interface ServicePortSpec {
  readonly number: number;
  readonly protocol?: Opt<string>;
  readonly name?: Opt<string>;
  readonly targetPort?: Opt<number>;
}

export interface WorkloadEntrySpec {
  readonly address?: Opt<string>;
  readonly ports?: Opt<Readonly<Record<string, number>>>;
  readonly labels?: Opt<Readonly<Record<string, string>>>;
  readonly network?: Opt<string>;
  readonly locality?: Opt<string>;
  readonly weight?: Opt<number>;
  readonly serviceAccount?: Opt<string>;
}

export interface ServiceEntrySpec {
  readonly hosts?: Opt<readonly string[]>;
  readonly addresses?: Opt<readonly string[]>;
  readonly ports?: Opt<readonly ServicePortSpec[]>;
  readonly location?: Opt<string>;
  readonly resolution?: Opt<string>;
  readonly endpoints?: Opt<readonly WorkloadEntrySpec[]>;
  readonly workloadSelector?: Opt<WorkloadSelector>;
  readonly exportTo?: Opt<readonly string[]>;
  readonly subjectAltNames?: Opt<readonly string[]>;
}

export interface SidecarPort {
  readonly number?: Opt<number>;
  readonly protocol?: Opt<string>;
  readonly name?: Opt<string>;
  readonly targetPort?: Opt<number>;
}

export interface IstioIngressListener {
  readonly port?: Opt<SidecarPort>;
  readonly bind?: Opt<string>;
  readonly captureMode?: Opt<string>;
  readonly defaultEndpoint?: Opt<string>;
}

export interface IstioEgressListener {
  readonly port?: Opt<SidecarPort>;
  readonly bind?: Opt<string>;
  readonly captureMode?: Opt<string>;
  readonly hosts?: Opt<readonly string[]>;
}

export interface OutboundTrafficPolicy {
  readonly mode?: Opt<string>;
}

export interface SidecarSpec {
  readonly workloadSelector?: Opt<WorkloadSelector>;
  readonly ingress?: Opt<readonly IstioIngressListener[]>;
  readonly egress?: Opt<readonly IstioEgressListener[]>;
  readonly outboundTrafficPolicy?: Opt<OutboundTrafficPolicy>;
}

export interface GatewayServer {
  readonly port?: Opt<{
    readonly number?: Opt<number>;
    readonly protocol?: Opt<string>;
    readonly name?: Opt<string>;
  }>;
  readonly bind?: Opt<string>;
  readonly hosts?: Opt<readonly string[]>;
  readonly tls?: Opt<{
    readonly mode?: Opt<string>;
    readonly credentialName?: Opt<string>;
    readonly serverCertificate?: Opt<string>;
    readonly privateKey?: Opt<string>;
    readonly caCertificates?: Opt<string>;
    readonly httpsRedirect?: Opt<boolean>;
  }>;
  readonly name?: Opt<string>;
}

export interface GatewaySpec {
  readonly selector?: Opt<Readonly<Record<string, string>>>;
  readonly servers?: Opt<readonly GatewayServer[]>;
}

/** A config object with its spec typed by kind. */
export interface TypedObject<S> extends ConfigObject {
  readonly spec: S;
}

export type VirtualService = TypedObject<VirtualServiceSpec>;
export type DestinationRule = TypedObject<DestinationRuleSpec>;
export type ServiceEntry = TypedObject<ServiceEntrySpec>;
export type WorkloadEntry = TypedObject<WorkloadEntrySpec>;
export type Sidecar = TypedObject<SidecarSpec>;
export type Gateway = TypedObject<GatewaySpec>;
