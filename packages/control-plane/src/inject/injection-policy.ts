// Whether a pod gets the sidecar, by Istio's rules: host-network pods, ignored namespaces and
// pods already injected never do; then any "disabled" wins (pod label or annotation
// `sidecar.istio.io/inject`, namespace label `istio-injection`), then any "enabled" injects
// (pod "true"); then the injector ConfigMap's neverInjectSelector / alwaysInjectSelector; then the
// policy. As with Istio, which namespaces and pods reach the
// webhook at all is the MutatingWebhookConfiguration's selectors' business (`istio-injection=enabled`,
// `istio.io/rev`, pod label "true"); skeinctl kube-inject has no namespace and injects by policy.
import { selectorMatches } from '../model/namespaces.js';
import type { InjectorConfig } from './injector-config.js';
import type { Pod } from './pod-types.js';

export const INJECT_KEY = 'sidecar.istio.io/inject';
export const STATUS_ANNOTATION = 'sidecar.istio.io/status';
export const PROXY_CONTAINER = 'istio-proxy';
export const INIT_CONTAINER = 'istio-init';

export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export type InjectionDecision = { inject: true; reason: string } | { inject: false; reason: string };

/** Istio reads y/yes/true/on as true, the empty value as "not set" and anything else as false. */
function truthy(v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  return ['y', 'yes', 'true', 'on'].includes(v.toLowerCase());
}

export function alreadyInjected(pod: Pod): boolean {
  if (pod.metadata?.annotations?.[STATUS_ANNOTATION] !== undefined) return true;
  const names = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].map((c) => c.name);
  return names.includes(PROXY_CONTAINER);
}

export function injectionDecision(
  pod: Pod,
  namespace: NamespaceInfo | undefined,
  config: Pick<
    InjectorConfig,
    'policy' | 'revision' | 'ignoredNamespaces' | 'neverInjectSelector' | 'alwaysInjectSelector'
  >,
): InjectionDecision {
  if (pod.spec.hostNetwork === true) return { inject: false, reason: 'host network pod' };
  if (namespace && config.ignoredNamespaces.includes(namespace.name))
    return { inject: false, reason: `namespace ${namespace.name} is never injected` };
  if (alreadyInjected(pod)) return { inject: false, reason: 'already injected' };
  const meta = pod.metadata ?? {};
  // Istio: the label wins over the (older) annotation.
  const podSays = truthy(meta.labels?.[INJECT_KEY] ?? meta.annotations?.[INJECT_KEY]);
  if (podSays === false) return { inject: false, reason: `pod ${INJECT_KEY}=false` };
  const nsLabel = namespace?.labels['istio-injection'];
  if (nsLabel === 'disabled') return { inject: false, reason: 'namespace istio-injection=disabled' };
  if (podSays === true) return { inject: true, reason: `pod ${INJECT_KEY}=true` };
  // The pod says nothing: the injector ConfigMap's selectors, then the policy (as Istio).
  const labels = meta.labels ?? {};
  if (config.neverInjectSelector.some((sel) => selectorMatches(sel, labels)))
    return { inject: false, reason: 'neverInjectSelector matches the pod' };
  if (config.alwaysInjectSelector.some((sel) => selectorMatches(sel, labels)))
    return { inject: true, reason: 'alwaysInjectSelector matches the pod' };
  if (config.policy === 'disabled')
    return { inject: false, reason: `policy disabled and the pod does not set ${INJECT_KEY}=true` };
  const rev = meta.labels?.['istio.io/rev'] ?? namespace?.labels['istio.io/rev'];
  if (rev !== undefined && rev !== config.revision)
    return { inject: false, reason: `istio.io/rev=${rev} is another revision (this is ${config.revision})` };
  if (nsLabel === 'enabled') return { inject: true, reason: 'namespace istio-injection=enabled' };
  return { inject: true, reason: 'policy enabled' };
}
