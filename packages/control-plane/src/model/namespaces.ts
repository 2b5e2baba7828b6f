// Kubernetes namespaces as the mesh reads them: a name and its labels (`istio-injection`,
// `istio.io/rev`, ...), Istio's sidecar-injection decision from namespace and pod labels, and the
// mesh config's `discoverySelectors` (which namespaces the control plane takes into account).

export type Labels = Readonly<Record<string, string>>;

/** Namespace name → labels (empty outside Kubernetes). */
export type NamespaceLabels = ReadonlyMap<string, Labels>;

export const NO_NAMESPACES: NamespaceLabels = new Map();

const INJECT = 'sidecar.istio.io/inject';

/** A Kubernetes label selector (matchLabels AND every matchExpression). */
export interface LabelSelector {
  readonly matchLabels?: Labels | undefined;
  readonly matchExpressions?:
    | readonly {
        readonly key: string;
        readonly operator: string;
        readonly values?: readonly string[] | undefined;
      }[]
    | undefined;
}

export function selectorMatches(sel: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const v = labels[e.key];
    const inValues = v !== undefined && (e.values ?? []).includes(v);
    switch (e.operator) {
      case 'In':
        if (!inValues) return false;
        break;
      case 'NotIn':
        if (inValues) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/**
 * The namespaces `discoverySelectors` admit (any selector matching the namespace's labels), or
 * undefined when everything is admitted: no selectors, or no namespaces known (directory mode).
 */
export function discoveredNamespaces(
  selectors: readonly LabelSelector[] | undefined,
  namespaces: NamespaceLabels,
): ReadonlySet<string> | undefined {
  if (!selectors || selectors.length === 0 || namespaces.size === 0) return undefined;
  const out = new Set<string>();
  for (const [name, labels] of namespaces)
    if (selectors.some((s) => selectorMatches(s, labels))) out.add(name);
  return out;
}

/**
 * Istio's injection rule: any "disabled" wins (namespace `istio-injection=disabled`, pod
 * `sidecar.istio.io/inject=false` as label or annotation); then any "enabled" injects (namespace
 * `istio-injection=enabled`, namespace `istio.io/rev`, pod `sidecar.istio.io/inject=true`).
 */
export function injectionEnabled(
  namespace: Labels | undefined,
  pod: { readonly labels?: Labels | undefined; readonly annotations?: Labels | undefined },
): boolean {
  const podValue = pod.labels?.[INJECT] ?? pod.annotations?.[INJECT];
  const nsValue = namespace?.['istio-injection'];
  if (podValue === 'false' || nsValue === 'disabled') return false;
  return podValue === 'true' || nsValue === 'enabled' || namespace?.['istio.io/rev'] !== undefined;
}
