// telemetry.istio.io Telemetry (and the free-form EnvoyFilter, accepted but unsupported).
import { arr, bool, duration, enumOf, free, map, num, obj, str } from '../schema/dsl.js';
import { selectorField, targetFields } from './common.js';

const ProviderRef = obj('ProviderRef', { name: str() }, { required: ['name'] });
const workloadMode = enumOf(['CLIENT_AND_SERVER', 'CLIENT', 'SERVER']);

const CustomTag = obj('CustomTag', {
  literal: obj('Literal', { value: str() }, { required: ['value'] }),
  environment: obj('Environment', { name: str(), defaultValue: str() }, { required: ['name'] }),
  header: obj('RequestHeader', { name: str(), defaultValue: str() }, { required: ['name'] }),
});

const Tracing = obj('Tracing', {
  match: obj('TracingSelector', { mode: workloadMode }),
  providers: arr(ProviderRef),
  randomSamplingPercentage: num({ min: 0, max: 100, doc: 'Share of requests traced, 0-100.' }),
  disableSpanReporting: bool(),
  customTags: map(CustomTag),
  useRequestIdForTraceSampling: bool(),
  enableIstioTags: bool(),
});

const metricNames = [
  'ALL_METRICS',
  'REQUEST_COUNT',
  'REQUEST_DURATION',
  'REQUEST_SIZE',
  'RESPONSE_SIZE',
  'TCP_OPENED_CONNECTIONS',
  'TCP_CLOSED_CONNECTIONS',
  'TCP_SENT_BYTES',
  'TCP_RECEIVED_BYTES',
  'GRPC_REQUEST_MESSAGES',
  'GRPC_RESPONSE_MESSAGES',
];

const MetricsOverrides = obj('MetricsOverrides', {
  match: obj('MetricSelector', { metric: enumOf(metricNames), customMetric: str(), mode: workloadMode }),
  disabled: bool(),
  tagOverrides: map(obj('TagOverride', { operation: enumOf(['UPSERT', 'REMOVE']), value: str() })),
});

const Metrics = obj('Metrics', {
  providers: arr(ProviderRef),
  overrides: arr(MetricsOverrides),
  reportingInterval: duration(),
});

const AccessLogging = obj('AccessLogging', {
  match: obj('LogSelector', { mode: workloadMode }),
  providers: arr(ProviderRef),
  disabled: bool(),
  filter: obj('Filter', { expression: str({ doc: 'CEL expression selecting the requests to log.' }) }),
});

export const TelemetrySpec = obj(
  'TelemetrySpec',
  {
    ...selectorField,
    ...targetFields,
    tracing: arr(Tracing),
    metrics: arr(Metrics),
    accessLogging: arr(AccessLogging),
  },
  { doc: 'Tracing, metrics and access logging for the workloads it selects.' },
);

export const EnvoyFilterSpec = obj(
  'EnvoyFilterSpec',
  {
    workloadSelector: obj('EnvoyFilterWorkloadSelector', { labels: map(str()) }),
    targetRefs: arr(obj('EnvoyFilterTargetRef', { group: str(), kind: str(), name: str() })),
    configPatches: arr(free('Patches of the generated Envoy configuration.')),
    priority: num(),
  },
  { doc: 'Patches to generated Envoy configuration; accepted but not supported by Skein.' },
);
