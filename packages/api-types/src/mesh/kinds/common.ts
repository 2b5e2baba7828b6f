// Message types several mesh kinds share (Istio's istio.type.v1beta1 and networking common types).
import {
  arr,
  enumOf,
  map,
  num,
  obj,
  port,
  str,
  strings,
  stringMap,
  regex,
  type Check,
} from '../schema/dsl.js';

/** At most one of the given fields, and (when `oneRequired`) at least one. */
export function exactlyOne(fields: readonly string[], oneRequired = true): Check {
  return (value, path, report) => {
    if (typeof value !== 'object' || value === null) return;
    const set = fields.filter((f) => (value as Record<string, unknown>)[f] !== undefined);
    if (set.length > 1) report(path, `only one of ${fields.join(', ')} may be set (got ${set.join(', ')})`);
    else if (oneRequired && set.length === 0) report(path, `one of ${fields.join(', ')} must be set`);
  };
}

/** networking.istio.io's selector (Sidecar, ServiceEntry): `labels`. */
export const WorkloadSelector = obj(
  'WorkloadSelector',
  { labels: stringMap('Labels a workload must carry for this configuration to apply to it.') },
  { doc: 'Selects workloads by their labels.' },
);

/** istio.type.v1beta1's selector (security, telemetry, DestinationRule): `matchLabels`. */
export const PolicyWorkloadSelector = obj(
  'PolicyWorkloadSelector',
  { matchLabels: stringMap('Labels a workload must carry for this configuration to apply to it.') },
  { doc: 'Selects workloads by their labels.' },
);

export const PolicyTargetReference = obj(
  'PolicyTargetReference',
  {
    group: str({ doc: 'API group of the target resource.' }),
    kind: str({ doc: 'Kind of the target resource.' }),
    name: str({ doc: 'Name of the target resource.' }),
    namespace: str({ doc: 'Namespace of the target resource (defaults to the policy namespace).' }),
  },
  { required: ['kind', 'name'], doc: 'A resource a policy attaches to.' },
);

export const StringMatch = obj(
  'StringMatch',
  {
    exact: str({ doc: 'Exact string match.' }),
    prefix: str({ doc: 'Prefix match.' }),
    regex: regex('RE2 regular expression; the whole value must match.'),
  },
  {
    oneOf: [['exact', 'prefix', 'regex']],
    doc: 'How to match a string: exactly, by prefix, or by RE2 regex.',
  },
);

export const PortSelector = obj(
  'PortSelector',
  { number: port('A valid non-negative integer port number.') },
  { doc: 'A port of the destination service.' },
);

export const Percent = obj(
  'Percent',
  { value: num({ min: 0, max: 100, doc: 'A percentage in the range 0.0 to 100.0.' }) },
  { doc: 'A percentage.' },
);

export const Destination = obj(
  'Destination',
  {
    host: str({ doc: 'The service name in the registry (short names resolve in the rule namespace).' }),
    subset: str({ doc: 'A subset defined in the DestinationRule of the host.' }),
    port: PortSelector,
  },
  { required: ['host'], doc: 'A service (and optionally a subset and port) to send traffic to.' },
);

export const targetFields = {
  targetRef: PolicyTargetReference,
  targetRefs: arr(PolicyTargetReference, { doc: 'Resources this applies to.' }),
};

export const selectorField = { selector: PolicyWorkloadSelector };

export const exportTo = strings('Namespaces this configuration is visible to ("." this one, "*" all).');

export const labelsMap = map(str(), { doc: 'Labels.' });

export const tlsProtocolVersions = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] as const;
export const tlsVersion = (doc: string) => enumOf(tlsProtocolVersions, { doc });
