// Kubernetes namespaces as the mesh reads them: a name and its labels (`istio-injection`,
// `istio.io/rev`, ...), and Istio's sidecar-injection decision from namespace and pod labels.

export type Labels = Readonly<Record<string, string>>;

/** Namespace name → labels (empty outside Kubernetes). */
export type NamespaceLabels = ReadonlyMap<string, Labels>;

export const NO_NAMESPACES: NamespaceLabels = new Map();

const INJECT = 'sidecar.istio.io/inject';

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
