// Kubernetes objects as plain JSON, and where each kind Skein installs lives in the API (the
// resource path), so no discovery round trip is needed and no typed model can drop a field.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  deletionTimestamp?: string;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

interface Resource {
  readonly plural: string;
  readonly namespaced: boolean;
}

/** Every kind in manifests/ (a test checks it), plus what install reads while it waits. */
const RESOURCES: Readonly<Record<string, Resource>> = {
  'apiextensions.k8s.io/v1/CustomResourceDefinition': {
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
  'v1/Namespace': { plural: 'namespaces', namespaced: false },
  'v1/ServiceAccount': { plural: 'serviceaccounts', namespaced: true },
  'v1/Service': { plural: 'services', namespaced: true },
  'v1/ConfigMap': { plural: 'configmaps', namespaced: true },
  'v1/Secret': { plural: 'secrets', namespaced: true },
  'v1/Pod': { plural: 'pods', namespaced: true },
  'v1/Event': { plural: 'events', namespaced: true },
  'apps/v1/Deployment': { plural: 'deployments', namespaced: true },
  'apps/v1/ReplicaSet': { plural: 'replicasets', namespaced: true },
  'rbac.authorization.k8s.io/v1/ClusterRole': { plural: 'clusterroles', namespaced: false },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { plural: 'clusterrolebindings', namespaced: false },
  'rbac.authorization.k8s.io/v1/Role': { plural: 'roles', namespaced: true },
  'rbac.authorization.k8s.io/v1/RoleBinding': { plural: 'rolebindings', namespaced: true },
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': {
    plural: 'mutatingwebhookconfigurations',
    namespaced: false,
  },
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': {
    plural: 'validatingwebhookconfigurations',
    namespaced: false,
  },
  // the dry-run VirtualService that proves validation is enforced
  'networking.istio.io/v1/VirtualService': { plural: 'virtualservices', namespaced: true },
};

export function knownKind(apiVersion: string, kind: string): boolean {
  return `${apiVersion}/${kind}` in RESOURCES;
}

/** `/apis/apps/v1/namespaces/skein-system/deployments/skeind`; an empty name gives the collection. */
export function resourcePath(ref: ObjectRef): string {
  const r = RESOURCES[`${ref.apiVersion}/${ref.kind}`];
  if (r === undefined) throw new Error(`skeinctl does not know the kind ${ref.apiVersion} ${ref.kind}`);
  const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  if (r.namespaced && !ref.namespace) throw new Error(`${ref.kind} ${ref.name} has no namespace`);
  const ns = r.namespaced ? `/namespaces/${encodeURIComponent(ref.namespace ?? '')}` : '';
  return `${base}${ns}/${r.plural}/${encodeURIComponent(ref.name)}`;
}
