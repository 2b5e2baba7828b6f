// VirtualService http routes → Envoy routes for one service port, as seen by one proxy: matches
// (uri, headers, query parameters, method, authority, port, sourceLabels, gateways), weighted
// destinations, redirect, direct response, rewrite, timeout, retries, fault, mirror, headers,
// CORS and the consistent-hash policy of the destination's DestinationRule. With no
// VirtualService, the default route with Istio's default retry policy and no timeout.
import type { routeComponentsV3 } from '@skein/api-types';
import { fqdn, labelsMatch } from '../model/hosts.js';
import type {
  Destination,
  HTTPMatchRequest,
  HTTPRoute,
  HeaderOperations,
  StringMatch,
  VirtualService,
} from '../model/istio-types.js';
import { destinationRuleFor, serviceFor } from '../model/snapshot.js';
import type { Service, ServicePort } from '../model/services.js';
import { effectivePolicy } from './cluster-policy.js';
import type { TranslateContext } from './context.js';
import { withDelegates } from './delegate.js';
import { duration, fractionalPercent, GRPC_CODES, T, typed } from './envoy.js';
import { outboundClusterName } from './names.js';

type RouteJson = routeComponentsV3.RouteJson;
type RouteMatchJson = routeComponentsV3.RouteMatchJson;
type RouteActionJson = routeComponentsV3.RouteActionJson;
type HeaderMatcherJson = routeComponentsV3.HeaderMatcherJson;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface RouteOptions {
  /** Proxyless gRPC: timeouts as max_stream_duration, no Envoy-only fields. */
  readonly grpc: boolean;
  /** The gateway the routes are for (`mesh` for sidecars). */
  readonly gateway?: string;
}

/** Istio's default retry policy. */
export function defaultRetryPolicy(): routeComponentsV3.RetryPolicyJson {
  return {
    retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
    numRetries: 2,
    retriableStatusCodes: [503],
    retryHostPredicate: [
      { name: 'envoy.retry_host_predicates.previous_hosts', typedConfig: typed(T.previousHosts, {}) },
    ],
    hostSelectionRetryMaxAttempts: '5',
  };
}

function stringMatcher(
  m: StringMatch,
  ignoreCase = false,
): routeComponentsV3.HeaderMatcherJson['stringMatch'] {
  if (m.exact !== undefined) return { exact: m.exact, ...(ignoreCase ? { ignoreCase } : {}) };
  if (m.prefix !== undefined) return { prefix: m.prefix, ...(ignoreCase ? { ignoreCase } : {}) };
  if (m.regex !== undefined) return { safeRegex: { regex: m.regex } };
  return undefined;
}

function headerMatcher(name: string, m: StringMatch, invert = false): HeaderMatcherJson {
  const sm = stringMatcher(m);
  return {
    name,
    ...(sm ? { stringMatch: sm } : { presentMatch: true }),
    ...(invert ? { invertMatch: true } : {}),
  };
}

function routeMatch(m: HTTPMatchRequest | undefined): RouteMatchJson {
  const out: Mutable<RouteMatchJson> = {};
  const uri = m?.uri;
  if (uri?.exact !== undefined) out.path = uri.exact;
  else if (uri?.regex !== undefined) out.safeRegex = { regex: uri.regex };
  else out.prefix = uri?.prefix ?? '/';
  if (m?.ignoreUriCase) out.caseSensitive = false;
  const headers: HeaderMatcherJson[] = [];
  for (const [name, sm] of Object.entries(m?.headers ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))
    headers.push(headerMatcher(name.toLowerCase(), sm));
  for (const [name, sm] of Object.entries(m?.withoutHeaders ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))
    headers.push(headerMatcher(name.toLowerCase(), sm, true));
  if (m?.method) headers.push(headerMatcher(':method', m.method));
  if (m?.authority) headers.push(headerMatcher(':authority', m.authority));
  if (m?.scheme) headers.push(headerMatcher(':scheme', m.scheme));
  if (headers.length > 0) out.headers = headers;
  const qp = Object.entries(m?.queryParams ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  if (qp.length > 0)
    out.queryParameters = qp.map(([name, sm]) => {
      const s = stringMatcher(sm);
      return s ? { name, stringMatch: s } : { name, presentMatch: true };
    });
  return out;
}

/** Does a match clause apply to this proxy and port? (port, sourceLabels, sourceNamespace, gateways) */
function matchApplies(ctx: TranslateContext, m: HTTPMatchRequest, port: number, gateway: string): boolean {
  if (m.port !== undefined && m.port !== port) return false;
  if (m.sourceLabels && !labelsMatch(m.sourceLabels, ctx.proxy.labels)) return false;
  if (m.sourceNamespace && m.sourceNamespace !== ctx.proxy.namespace) return false;
  if (m.gateways && m.gateways.length > 0 && !m.gateways.includes(gateway)) return false;
  return true;
}

/** The cluster a destination names, resolving its port as Istio does. */
export function destinationCluster(
  ctx: TranslateContext,
  d: Destination,
  vsNs: string,
  fallbackPort: number,
): string {
  const host = fqdn(d.host, vsNs);
  let port = d.port?.number;
  if (port === undefined) {
    const svc = serviceFor(ctx.snapshot, host, ctx.proxy.namespace);
    port = svc && svc.ports.length === 1 ? (svc.ports[0]?.number ?? fallbackPort) : fallbackPort;
  }
  return outboundClusterName(port, d.subset ?? '', host);
}

function headerOps(ops: HeaderOperations | undefined, dir: 'request' | 'response'): Partial<RouteJson> {
  if (!ops) return {};
  const add = [
    ...Object.entries(ops.set ?? {}).map(([key, value]) => ({
      header: { key, value },
      appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' as const,
    })),
    ...Object.entries(ops.add ?? {}).map(([key, value]) => ({
      header: { key, value },
      appendAction: 'APPEND_IF_EXISTS_OR_ADD' as const,
    })),
  ];
  const out: Record<string, unknown> = {};
  if (add.length > 0) out[`${dir}HeadersToAdd`] = add;
  if (ops.remove?.length) out[`${dir}HeadersToRemove`] = [...ops.remove];
  return out as Partial<RouteJson>;
}

/** Route-level header operations followed by the single destination's (Istio applies both). */
function mergeHeaderOps(route: Partial<RouteJson>[], dest: Partial<RouteJson>[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const part of [...route, ...dest])
    for (const [k, v] of Object.entries(part)) out[k] = [...(out[k] ?? []), ...(v as unknown[])];
  return out;
}

function hashPolicy(ctx: TranslateContext, host: string, port: number, subset: string) {
  const dr = destinationRuleFor(ctx.snapshot, host, ctx.proxy.namespace, ctx.proxy.labels);
  const ch = effectivePolicy(dr, port, subset).loadBalancer?.consistentHash;
  if (!ch) return undefined;
  if (ch.httpHeaderName) return [{ header: { headerName: ch.httpHeaderName } }];
  if (ch.httpCookie)
    return [
      {
        cookie: {
          name: ch.httpCookie.name,
          ...(ch.httpCookie.ttl ? { ttl: duration(ch.httpCookie.ttl) } : {}),
          ...(ch.httpCookie.path ? { path: ch.httpCookie.path } : {}),
        },
      },
    ];
  if (ch.useSourceIp) return [{ connectionProperties: { sourceIp: true } }];
  if (ch.httpQueryParameterName) return [{ queryParameter: { name: ch.httpQueryParameterName } }];
  return undefined;
}

function faultConfig(route: HTTPRoute): object | undefined {
  const f = route.fault;
  if (!f) return undefined;
  const out: Record<string, unknown> = {};
  if (f.delay?.fixedDelay) {
    const pct = f.delay.percentage?.value ?? f.delay.percent ?? 100;
    out['delay'] = { fixedDelay: duration(f.delay.fixedDelay), percentage: fractionalPercent(pct) };
  }
  if (f.abort) {
    const pct = f.abort.percentage?.value ?? 100;
    const grpc = f.abort.grpcStatus;
    const abort: Record<string, unknown> = { percentage: fractionalPercent(pct) };
    if (grpc !== undefined) abort['grpcStatus'] = typeof grpc === 'number' ? grpc : (GRPC_CODES[grpc] ?? 2);
    else abort['httpStatus'] = f.abort.httpStatus ?? 503;
    out['abort'] = abort;
  }
  return out;
}

function corsPolicy(route: HTTPRoute): object | undefined {
  const c = route.corsPolicy;
  if (!c) return undefined;
  return {
    ...(c.allowOrigins?.length
      ? { allowOriginStringMatch: c.allowOrigins.map((o) => stringMatcher(o)).filter((x) => x !== undefined) }
      : {}),
    ...(c.allowMethods?.length ? { allowMethods: c.allowMethods.join(',') } : {}),
    ...(c.allowHeaders?.length ? { allowHeaders: c.allowHeaders.join(',') } : {}),
    ...(c.exposeHeaders?.length ? { exposeHeaders: c.exposeHeaders.join(',') } : {}),
    ...(c.maxAge ? { maxAge: String(Math.round(Number(duration(c.maxAge).slice(0, -1)))) } : {}),
    ...(c.allowCredentials !== undefined ? { allowCredentials: c.allowCredentials } : {}),
  };
}

function retryPolicy(route: HTTPRoute): routeComponentsV3.RetryPolicyJson | undefined {
  const r = route.retries;
  if (!r) return defaultRetryPolicy();
  if (!r.attempts) return undefined;
  const policy: Mutable<routeComponentsV3.RetryPolicyJson> = {
    ...defaultRetryPolicy(),
    numRetries: r.attempts,
  };
  if (r.retryOn) {
    const parts = r.retryOn
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const codes = parts.filter((p) => /^\d+$/.test(p)).map(Number);
    const names = parts.filter((p) => !/^\d+$/.test(p));
    if (codes.length > 0 && !names.includes('retriable-status-codes')) names.push('retriable-status-codes');
    policy.retryOn = names.join(',');
    if (codes.length > 0) policy.retriableStatusCodes = codes;
    else delete policy.retriableStatusCodes;
  }
  if (r.perTryTimeout) policy.perTryTimeout = duration(r.perTryTimeout);
  return policy;
}

/** The action part of an Envoy route for one HTTPRoute. */
function routeAction(
  ctx: TranslateContext,
  vs: VirtualService,
  route: HTTPRoute,
  port: number,
  opts: RouteOptions,
): Partial<RouteJson> {
  const vsNs = vs.metadata.namespace ?? 'default';
  if (route.redirect) {
    const r = route.redirect;
    const codes: Record<number, string> = {
      301: 'MOVED_PERMANENTLY',
      302: 'FOUND',
      303: 'SEE_OTHER',
      307: 'TEMPORARY_REDIRECT',
      308: 'PERMANENT_REDIRECT',
    };
    return {
      redirect: {
        ...(r.uri ? { pathRedirect: r.uri } : {}),
        ...(r.authority ? { hostRedirect: r.authority } : {}),
        ...(r.port ? { portRedirect: r.port } : {}),
        ...(r.scheme ? { schemeRedirect: r.scheme } : {}),
        responseCode: (codes[r.redirectCode ?? 301] ?? 'MOVED_PERMANENTLY') as 'MOVED_PERMANENTLY',
      },
    };
  }
  if (route.directResponse)
    return {
      directResponse: {
        status: route.directResponse.status,
        ...(route.directResponse.body?.string !== undefined
          ? { body: { inlineString: route.directResponse.body.string } }
          : {}),
      },
    };
  const dests = (route.route ?? []).filter((d, _i, all) => all.length === 1 || (d.weight ?? 0) > 0);
  const action: Mutable<RouteActionJson> = {};
  if (dests.length === 1 && dests[0])
    action.cluster = destinationCluster(ctx, dests[0].destination, vsNs, port);
  else
    action.weightedClusters = {
      clusters: dests.map((d) => ({
        name: destinationCluster(ctx, d.destination, vsNs, port),
        weight: d.weight ?? 0,
        ...headerOps(d.headers?.request, 'request'),
        ...headerOps(d.headers?.response, 'response'),
      })),
    };
  const first = dests[0]?.destination;
  if (first) {
    const host = fqdn(first.host, vsNs);
    const hp = hashPolicy(ctx, host, first.port?.number ?? port, first.subset ?? '');
    if (hp) action.hashPolicy = hp;
  }
  if (route.rewrite?.uri !== undefined) action.prefixRewrite = route.rewrite.uri;
  if (route.rewrite?.uriRegexRewrite?.match)
    action.regexRewrite = {
      pattern: { regex: route.rewrite.uriRegexRewrite.match },
      substitution: route.rewrite.uriRegexRewrite.rewrite ?? '',
    };
  if (route.rewrite?.authority) action.hostRewriteLiteral = route.rewrite.authority;
  const timeout = duration(route.timeout ?? '0s');
  if (opts.grpc) {
    if (route.timeout)
      action.maxStreamDuration = { maxStreamDuration: timeout, grpcTimeoutHeaderMax: timeout };
  } else action.timeout = timeout;
  const retry = retryPolicy(route);
  if (retry)
    action.retryPolicy = opts.grpc
      ? { ...retry, retryHostPredicate: [], hostSelectionRetryMaxAttempts: '0' }
      : retry;
  const mirrors = [
    ...(route.mirror ? [{ destination: route.mirror, percentage: route.mirrorPercentage }] : []),
    ...(route.mirrors ?? []),
  ];
  if (mirrors.length > 0 && !opts.grpc)
    action.requestMirrorPolicies = mirrors.map((m) => ({
      cluster: destinationCluster(ctx, m.destination, vsNs, port),
      runtimeFraction: { defaultValue: fractionalPercent(m.percentage?.value ?? 100) },
    }));
  return { route: action };
}

function perFilter(route: HTTPRoute, opts: RouteOptions): Partial<RouteJson> {
  const cfg: Record<string, unknown> = {};
  const fault = faultConfig(route);
  if (fault) cfg['envoy.filters.http.fault'] = typed(T.fault, fault);
  const cors = opts.grpc ? undefined : corsPolicy(route);
  if (cors) cfg['envoy.filters.http.cors'] = typed(T.corsPolicy, cors);
  return Object.keys(cfg).length > 0 ? ({ typedPerFilterConfig: cfg } as Partial<RouteJson>) : {};
}

/** The default route to a service port (no VirtualService). */
export function defaultRoute(service: Service, port: ServicePort, opts: RouteOptions): RouteJson {
  const cluster = outboundClusterName(port.number, '', service.hostname);
  return {
    name: 'default',
    match: { prefix: '/' },
    route: opts.grpc
      ? {
          cluster,
          retryPolicy: {
            ...defaultRetryPolicy(),
            retryHostPredicate: [],
            hostSelectionRetryMaxAttempts: '0',
          },
        }
      : { cluster, timeout: '0s', retryPolicy: defaultRetryPolicy() },
  };
}

/** Routes for one service port from its VirtualService, or the default route. */
export function httpRoutes(
  ctx: TranslateContext,
  vs: VirtualService | undefined,
  service: Service,
  port: ServicePort,
  opts: RouteOptions,
): RouteJson[] {
  if (!vs) return [defaultRoute(service, port, opts)];
  vs = withDelegates(ctx.snapshot, vs);
  const gateway = opts.gateway ?? 'mesh';
  const out: RouteJson[] = [];
  (vs.spec.http ?? []).forEach((route, i) => {
    const matches =
      route.match && route.match.length > 0
        ? route.match.filter((m) => matchApplies(ctx, m, port.number, gateway))
        : [undefined];
    if (matches.length === 0) return;
    const action = routeAction(ctx, vs, route, port.number, opts);
    const live = (route.route ?? []).filter((d, _i, all) => all.length === 1 || (d.weight ?? 0) > 0);
    const single =
      live.length === 1 && !route.redirect && !route.directResponse ? live[0]?.headers : undefined;
    const common = {
      ...action,
      ...mergeHeaderOps(
        [headerOps(route.headers?.request, 'request'), headerOps(route.headers?.response, 'response')],
        [headerOps(single?.request, 'request'), headerOps(single?.response, 'response')],
      ),
      ...perFilter(route, opts),
    };
    for (const m of matches)
      out.push({
        name: route.name ?? m?.name ?? `${vs.metadata.namespace ?? 'default'}/${vs.metadata.name}.${i}`,
        match: routeMatch(m),
        ...common,
      } as RouteJson);
  });
  return out;
}
