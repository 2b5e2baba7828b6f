// `skeinctl kube-inject`: the injector applied to the pod templates of workload manifests
// (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, and
// `kind: List` of them) in multi-document YAML; everything else passes through unchanged. There
// is no namespace to ask, so the pod's own `sidecar.istio.io/inject` and the policy decide.
import { parseAllDocuments, stringify } from 'yaml';
import { injectionDecision } from './injection-policy.js';
import type { InjectorConfig } from './injector-config.js';
import { injectPod } from './inject-pod.js';
import { isRecord, type Json, type Pod } from './pod-types.js';

const TEMPLATE_KINDS = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Job',
]);

/** Where the pod (template) of a workload object is, or undefined for other kinds. */
function podPath(obj: Json): string[] | undefined {
  const kind = obj['kind'];
  if (kind === 'Pod') return [];
  if (typeof kind === 'string' && TEMPLATE_KINDS.has(kind)) return ['spec', 'template'];
  if (kind === 'CronJob') return ['spec', 'jobTemplate', 'spec', 'template'];
  return undefined;
}

function getIn(obj: Json, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const k of path) cur = isRecord(cur) ? cur[k] : undefined;
  return cur;
}

function setIn(obj: Json, path: readonly string[], value: Json): Json {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const child = isRecord(obj[head]) ? (obj[head] as Json) : {};
  return { ...obj, [head]: setIn(child, rest, value) };
}

/** One object, injected when it is a workload whose pod should get the sidecar. */
export function injectObject(obj: unknown, config: InjectorConfig): unknown {
  if (!isRecord(obj)) return obj;
  if (obj['kind'] === 'List' && Array.isArray(obj['items']))
    return { ...obj, items: obj['items'].map((i) => injectObject(i, config)) };
  const path = podPath(obj);
  if (!path) return obj;
  const pod = getIn(obj, path);
  const name = isRecord(obj['metadata']) ? obj['metadata']['name'] : undefined;
  if (!isRecord(pod) || !isRecord(pod['spec']) || !Array.isArray(pod['spec']['containers']))
    throw new Error(
      `${String(obj['kind'])} ${String(name)}: ${path.join('.') || 'pod'}.spec.containers is missing`,
    );
  const typed = pod as unknown as Pod;
  if (!injectionDecision(typed, undefined, config).inject) return obj;
  const injected = injectPod(typed, config, { workloadName: typeof name === 'string' ? name : undefined });
  return setIn(obj, path, injected as unknown as Json);
}

/** Multi-document YAML in, the same documents with sidecars out. */
export function kubeInject(yamlText: string, config: InjectorConfig): string {
  const out: string[] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    if (doc.errors.length) throw new Error(`invalid YAML: ${doc.errors[0]?.message ?? ''}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    out.push(stringify(injectObject(value, config), { lineWidth: 0, aliasDuplicateObjects: false }));
  }
  return out.join('---\n');
}
