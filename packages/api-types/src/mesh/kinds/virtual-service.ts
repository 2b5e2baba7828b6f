// networking.istio.io VirtualService: how requests to a host are routed.
import {
  arr,
  bool,
  duration,
  enumOf,
  int32,
  map,
  obj,
  port,
  regex,
  str,
  strings,
  stringMap,
  uint32,
  type Check,
} from '../schema/dsl.js';
import { Destination, Percent, StringMatch, exactlyOne, exportTo } from './common.js';

const HeaderOperations = obj('HeaderOperations', {
  set: stringMap('Overwrite the headers with these values.'),
  add: stringMap('Append these values to the headers.'),
  remove: strings('Remove these headers.'),
});

const Headers = obj(
  'Headers',
  { request: HeaderOperations, response: HeaderOperations },
  { doc: 'Header manipulation on the request and the response.' },
);

const HTTPMatchRequest = obj(
  'HTTPMatchRequest',
  {
    name: str({ doc: 'Name of the match, used in logs.' }),
    uri: StringMatch,
    scheme: StringMatch,
    method: StringMatch,
    authority: StringMatch,
    headers: map(StringMatch, { doc: 'Header name (lowercase) to match.' }),
    port: port('Port of the host being addressed.'),
    sourceLabels: stringMap('Labels the calling workload must carry.'),
    gateways: strings('Gateways this match applies to ("mesh" for sidecars).'),
    queryParams: map(StringMatch, { doc: 'Query parameters to match.' }),
    ignoreUriCase: bool('Match the URI case-insensitively.'),
    withoutHeaders: map(StringMatch, { doc: 'Headers that must not match.' }),
    sourceNamespace: str({ doc: 'Namespace of the calling workload.' }),
    statPrefix: str({ doc: 'Prefix for the route statistics.' }),
  },
  { doc: 'Conditions a request must meet for its rule to apply.' },
);

const HTTPRouteDestination = obj(
  'HTTPRouteDestination',
  {
    destination: Destination,
    weight: int32({ doc: 'Relative share of the traffic: weight / sum of weights.' }),
    headers: Headers,
  },
  { required: ['destination'], doc: 'A destination with its share of the traffic.' },
);

const RouteDestination = obj(
  'RouteDestination',
  { destination: Destination, weight: int32({ doc: 'Relative share of the traffic.' }) },
  { required: ['destination'], doc: 'An L4 destination with its share of the traffic.' },
);

const HTTPRedirect = obj(
  'HTTPRedirect',
  {
    uri: str({ doc: 'Replace the path with this value.' }),
    authority: str({ doc: 'Replace the authority with this value.' }),
    port: port('Redirect to this port.'),
    derivePort: enumOf(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'], { doc: 'How to choose the port.' }),
    scheme: str({ doc: 'Redirect to this scheme.' }),
    redirectCode: uint32({ min: 300, max: 399, doc: 'HTTP status of the redirect (default 301).' }),
  },
  { oneOf: [['port', 'derivePort']], doc: 'Answer with a redirect instead of forwarding.' },
);

const HTTPBody = obj(
  'HTTPBody',
  { string: str({ doc: 'Response body as a string.' }), bytes: str({ doc: 'Response body, base64.' }) },
  { oneOf: [['string', 'bytes']] },
);

const HTTPDirectResponse = obj(
  'HTTPDirectResponse',
  { status: uint32({ min: 200, max: 599, doc: 'HTTP status to answer with.' }), body: HTTPBody },
  { required: ['status'], doc: 'Answer directly instead of forwarding.' },
);

const RegexRewrite = obj('RegexRewrite', {
  match: regex('RE2 pattern to match in the path.'),
  rewrite: str({ doc: 'Replacement; \\1 refers to capture groups.' }),
});

const HTTPRewrite = obj(
  'HTTPRewrite',
  {
    uri: str({ doc: 'Replace the matched URI prefix (or whole URI) with this value.' }),
    authority: str({ doc: 'Replace the Authority/Host header with this value.' }),
    uriRegexRewrite: RegexRewrite,
  },
  { oneOf: [['uri', 'uriRegexRewrite']], doc: 'Rewrite the request before forwarding.' },
);

const retryOnConditions = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'envoy-ratelimited',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);
const checkRetryOn: Check = (value, path, report) => {
  if (typeof value !== 'string' || value === '') return;
  for (const c of value.split(',').map((s) => s.trim())) {
    if (!retryOnConditions.has(c) && !/^[1-5]\d\d$/.test(c))
      report(path, `unknown retry condition ${JSON.stringify(c)}`);
  }
};

const HTTPRetry = obj(
  'HTTPRetry',
  {
    attempts: int32({ min: 0, doc: 'Number of retries (not counting the first try).' }),
    perTryTimeout: duration('Timeout of each try.'),
    retryOn: str({ doc: 'Comma-separated conditions to retry on.', checks: [checkRetryOn] }),
    retryRemoteLocalities: bool('Retry in other localities.'),
  },
  { doc: 'Retry policy.' },
);

const Delay = obj(
  'Delay',
  {
    fixedDelay: duration('Delay before forwarding.'),
    exponentialDelay: duration('Not supported by Istio; accepted and ignored.'),
    percentage: Percent,
    percent: int32({ min: 0, max: 100, doc: 'Deprecated: use percentage.' }),
  },
  { oneOf: [['fixedDelay', 'exponentialDelay']], checks: [exactlyOne(['fixedDelay', 'exponentialDelay'])] },
);

const Abort = obj(
  'Abort',
  {
    httpStatus: int32({ min: 200, max: 599, doc: 'HTTP status to abort with.' }),
    grpcStatus: str({ doc: 'gRPC status name to abort with, e.g. UNAVAILABLE.' }),
    http2Error: str({ doc: 'HTTP/2 error to abort with.' }),
    percentage: Percent,
  },
  { checks: [exactlyOne(['httpStatus', 'grpcStatus', 'http2Error'])] },
);

const HTTPFaultInjection = obj(
  'HTTPFaultInjection',
  { delay: Delay, abort: Abort },
  { doc: 'Faults to inject.' },
);

const HTTPMirrorPolicy = obj(
  'HTTPMirrorPolicy',
  { destination: Destination, percentage: Percent },
  { required: ['destination'] },
);

const CorsPolicy = obj(
  'CorsPolicy',
  {
    allowOrigin: strings('Deprecated: use allowOrigins.'),
    allowOrigins: arr(StringMatch, { doc: 'Origins allowed to make requests.' }),
    allowMethods: strings('Methods allowed.'),
    allowHeaders: strings('Request headers allowed.'),
    exposeHeaders: strings('Response headers browsers may read.'),
    maxAge: duration('How long preflight results may be cached.'),
    allowCredentials: bool('Whether credentials may be sent.'),
    unmatchedPreflights: enumOf(['UNSPECIFIED', 'FORWARD', 'IGNORE'], {
      doc: 'What to do with unmatched preflights.',
    }),
  },
  { doc: 'Cross-origin resource sharing policy.' },
);

const Delegate = obj('Delegate', { name: str(), namespace: str() }, { required: ['name'] });

/** Weights are relative: negative is an error, as is a sum of zero over several destinations. */
const checkWeights: Check = (value, path, report) => {
  if (!Array.isArray(value)) return;
  let sum = 0;
  value.forEach((d: unknown, i) => {
    const w = (d as { weight?: unknown } | null)?.weight;
    if (typeof w === 'number') {
      if (w < 0) report(`${path}[${i}].weight`, `weight must not be negative (got ${w})`);
      else sum += w;
    }
  });
  if (value.length > 1 && sum === 0) report(path, 'the weights of several destinations sum to zero');
};

const HTTPRoute = obj(
  'HTTPRoute',
  {
    name: str({ doc: 'Name of the route, used in logs.' }),
    match: arr(HTTPMatchRequest, { doc: 'Conditions; any one matching selects this route.' }),
    route: arr(HTTPRouteDestination, {
      doc: 'Where to forward, with relative weights.',
      checks: [checkWeights],
    }),
    redirect: HTTPRedirect,
    directResponse: HTTPDirectResponse,
    delegate: Delegate,
    rewrite: HTTPRewrite,
    timeout: duration('Request timeout (none by default).'),
    retries: HTTPRetry,
    fault: HTTPFaultInjection,
    mirror: Destination,
    mirrors: arr(HTTPMirrorPolicy, { doc: 'Destinations to mirror traffic to.' }),
    mirrorPercentage: Percent,
    mirrorPercent: uint32({ max: 100, doc: 'Deprecated: use mirrorPercentage.' }),
    corsPolicy: CorsPolicy,
    headers: Headers,
  },
  {
    oneOf: [['route', 'redirect', 'directResponse', 'delegate']],
    checks: [
      (value, path, report) => {
        const v = value as Record<string, unknown>;
        if (!v.route && !v.redirect && !v.directResponse && !v.delegate)
          report(path, 'an HTTP route needs one of route, redirect, directResponse or delegate');
      },
    ],
    doc: 'Rules for HTTP traffic.',
  },
);

const TLSMatchAttributes = obj(
  'TLSMatchAttributes',
  {
    sniHosts: strings('SNI values to match.'),
    destinationSubnets: strings('Destination IP or CIDR.'),
    port: port('Port of the host being addressed.'),
    sourceLabels: stringMap('Labels the calling workload must carry.'),
    gateways: strings('Gateways this match applies to.'),
    sourceNamespace: str(),
  },
  { required: ['sniHosts'] },
);

const L4MatchAttributes = obj('L4MatchAttributes', {
  destinationSubnets: strings('Destination IP or CIDR.'),
  port: port('Port of the host being addressed.'),
  sourceSubnet: str(),
  sourceLabels: stringMap('Labels the calling workload must carry.'),
  gateways: strings('Gateways this match applies to.'),
  sourceNamespace: str(),
});

const TLSRoute = obj(
  'TLSRoute',
  {
    match: arr(TLSMatchAttributes),
    route: arr(RouteDestination, { checks: [checkWeights] }),
  },
  { required: ['match'], doc: 'Rules for TLS and HTTPS traffic routed by SNI, unterminated.' },
);

const TCPRoute = obj(
  'TCPRoute',
  { match: arr(L4MatchAttributes), route: arr(RouteDestination, { checks: [checkWeights] }) },
  { doc: 'Rules for opaque TCP traffic.' },
);

export const VirtualServiceSpec = obj(
  'VirtualServiceSpec',
  {
    hosts: strings('Hosts these rules apply to.'),
    gateways: strings('Gateways (and "mesh" for sidecars) these rules apply to.'),
    http: arr(HTTPRoute),
    tls: arr(TLSRoute),
    tcp: arr(TCPRoute),
    exportTo,
  },
  { doc: 'Routing rules for traffic addressed to a host.' },
);
