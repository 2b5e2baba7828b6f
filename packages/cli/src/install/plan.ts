// What install applies and uninstall deletes, decided without any I/O: the manifests with this
// install's images and annotations set on the parsed objects, the live fields an upgrade keeps
// (the validator's failurePolicy skeind switched to Fail, a restart annotation), and the order of
// deletion.
import type { SkeinManifests } from './manifests.js';
import type { KubeObject, ObjectRef } from './objects.js';

export const SKEIN_NAMESPACE = 'skein-system';
export const SKEIND = 'skeind';
export const VALIDATOR = 'skein-validator';
/** Set on skeind's pod template by --restart, as `kubectl rollout restart` does. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const PROXY_IMAGE_ARG = '--proxy-image=';
/** On every object install applies: `kubectl get <kind> -l app.kubernetes.io/managed-by=skeinctl`. */
export const MANAGED_BY = 'app.kubernetes.io/managed-by';

export interface InstallSettings {
  /** skeind's container image. */
  readonly skeindImage?: string | undefined;
  /** The sidecar image skeind's injector uses (skeind's `--proxy-image=`). */
  readonly proxyImage?: string | undefined;
  /** A new pod for skeind even when nothing else changed: the value of RESTARTED_AT. */
  readonly restartedAt?: string | undefined;
}

interface Container {
  name: string;
  image?: string;
  args?: string[];
}

interface PodTemplate {
  metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: { containers?: Container[] };
}

/** skeind's Deployment in the manifests, or a precise error when they changed shape. */
export function skeindDeployment(m: SkeinManifests): KubeObject {
  const d = m.controlPlane.find(
    (o) => o.kind === 'Deployment' && o.metadata.name === SKEIND && o.metadata.namespace === SKEIN_NAMESPACE,
  );
  if (!d) throw new Error(`the manifests have no Deployment ${SKEIN_NAMESPACE}/${SKEIND}`);
  return d;
}

function template(d: KubeObject): PodTemplate {
  return ((d['spec'] as { template?: PodTemplate } | undefined)?.template ?? {}) as PodTemplate;
}

function skeindContainer(d: KubeObject): Container {
  const c = template(d).spec?.containers?.find((x) => x.name === SKEIND);
  if (!c) throw new Error(`Deployment ${SKEIN_NAMESPACE}/${SKEIND} has no container named ${SKEIND}`);
  return c;
}

/** The images a manifest set (or a live Deployment) runs: skeind's, and the proxy it injects. */
export function imagesOf(d: KubeObject): { skeind: string; proxy: string } {
  const c = skeindContainer(d);
  const arg = c.args?.find((a) => a.startsWith(PROXY_IMAGE_ARG));
  return { skeind: c.image ?? '', proxy: arg?.slice(PROXY_IMAGE_ARG.length) ?? '' };
}

/** The manifests with the settings applied to (copies of) the parsed objects. */
export function customize(m: SkeinManifests, s: InstallSettings): SkeinManifests {
  const copy = structuredClone({ crds: m.crds, controlPlane: m.controlPlane, webhooks: m.webhooks });
  // Also gives skeinctl a field of its own on every object: an applier that owns no field is not
  // recorded in managedFields, and the next apply would then rewrite the object (before-first-apply).
  for (const o of [...copy.crds, ...copy.controlPlane, ...copy.webhooks])
    o.metadata.labels = { ...o.metadata.labels, [MANAGED_BY]: 'skeinctl' };
  const d = skeindDeployment(copy);
  const c = skeindContainer(d);
  if (s.skeindImage !== undefined) c.image = s.skeindImage;
  if (s.proxyImage !== undefined) {
    const args = c.args ?? [];
    const i = args.findIndex((a) => a.startsWith(PROXY_IMAGE_ARG));
    if (i >= 0) args[i] = `${PROXY_IMAGE_ARG}${s.proxyImage}`;
    else args.push(`${PROXY_IMAGE_ARG}${s.proxyImage}`);
    c.args = args;
  }
  if (s.restartedAt !== undefined) {
    const t = template(d);
    t.metadata = {
      ...t.metadata,
      annotations: { ...t.metadata?.annotations, [RESTARTED_AT]: s.restartedAt },
    };
  }
  return copy;
}

interface Webhook {
  name: string;
  failurePolicy?: string;
}

/**
 * What an apply must leave as it is live so that re-installing changes nothing skeind or the user
 * did on purpose: the validator's `failurePolicy: Fail` (skeind switches the manifest's Ignore to
 * Fail once it has seen the API server call it; forcing Ignore back would open a window where
 * invalid config is accepted) — the field is left out of the apply, and since Fail is the API's
 * default it stays Fail whoever owns it — and skeind's restart annotation (dropping it would roll
 * the pod).
 */
export function keepLiveFields(desired: KubeObject, live: KubeObject | undefined): KubeObject {
  if (!live) return desired;
  if (desired.kind === 'ValidatingWebhookConfiguration') {
    const liveHooks = (live['webhooks'] as Webhook[] | undefined) ?? [];
    const hooks = (desired['webhooks'] as Webhook[] | undefined) ?? [];
    if (!hooks.some((h) => h.failurePolicy === 'Ignore')) return desired;
    const out = structuredClone(desired);
    for (const h of out['webhooks'] as Webhook[]) {
      const l = liveHooks.find((x) => x.name === h.name);
      if (h.failurePolicy === 'Ignore' && l?.failurePolicy === 'Fail') delete h.failurePolicy;
    }
    return out;
  }
  if (desired.kind === 'Deployment') {
    const kept = template(live).metadata?.annotations?.[RESTARTED_AT];
    if (kept === undefined || template(desired).metadata?.annotations?.[RESTARTED_AT] !== undefined)
      return desired;
    const out = structuredClone(desired);
    const t = template(out);
    t.metadata = { ...t.metadata, annotations: { ...t.metadata?.annotations, [RESTARTED_AT]: kept } };
    return out;
  }
  return desired;
}

export interface Deletion {
  readonly ref: ObjectRef;
  /** Foreground for skeind's Deployment: deleted once its pods are gone. */
  readonly propagation: 'Foreground' | 'Background';
  /**
   * Deletions of a later stage start once everything of the earlier ones is gone (when waiting).
   * The CRDs come after the namespace: the namespace controller discovers every namespaced API
   * before it empties a namespace, and an API vanishing meanwhile fails that discovery and puts
   * the namespace on the controller's backoff (seen: over 30 s instead of 6).
   */
  readonly stage: number;
}

export interface UninstallPlan {
  readonly deletions: readonly Deletion[];
  /** What stays (and why), for the summary. */
  readonly kept: readonly string[];
}

const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  ...(o.metadata.namespace !== undefined ? { namespace: o.metadata.namespace } : {}),
});

/**
 * Istio's order and semantics: the webhooks first (no pod creation may hang on a webhook whose
 * server is going away), then skeind and its namespaced objects, then the cluster-scoped RBAC.
 * The namespace stays — it holds the mesh CA's root key (Secret istio-ca-secret), so a
 * re-install keeps every workload's certificate valid — and so do the CRDs with everything
 * stored in them, unless `purge`.
 */
export function uninstallPlan(m: SkeinManifests, purge: boolean): UninstallPlan {
  const deletions: Deletion[] = [];
  const del = (o: KubeObject, stage = 0): void => {
    deletions.push({
      ref: refOf(o),
      propagation: o.kind === 'Deployment' ? 'Foreground' : 'Background',
      stage,
    });
  };
  m.webhooks.forEach((w) => del(w));
  const namespaced = m.controlPlane.filter((o) => o.metadata.namespace !== undefined);
  const clusterScoped = m.controlPlane.filter(
    (o) => o.metadata.namespace === undefined && o.kind !== 'Namespace',
  );
  const namespaces = m.controlPlane.filter((o) => o.kind === 'Namespace');
  // workloads first, then what they use (Service, RBAC, ServiceAccount)
  [...namespaced].sort((a, b) => rank(a) - rank(b)).forEach((o) => del(o));
  clusterScoped.forEach((o) => del(o));
  const kept: string[] = [];
  if (purge) {
    namespaces.forEach((n) => del(n));
    m.crds.forEach((c) => del(c, 1));
  } else {
    for (const n of namespaces)
      kept.push(
        `Namespace ${n.metadata.name} (the mesh CA's root key, Secret istio-ca-secret, stays for a re-install)`,
      );
    if (m.crds.length > 0)
      kept.push(`${m.crds.length} CustomResourceDefinitions and the mesh configuration stored in them`);
  }
  return { deletions, kept };
}

function rank(o: KubeObject): number {
  const order = ['Deployment', 'Service', 'RoleBinding', 'Role', 'ServiceAccount'];
  const i = order.indexOf(o.kind);
  return i < 0 ? order.length : i;
}
