/**
 * Applies YAML (one or many documents) with server-side apply, the way `kubectl apply
 * --server-side` does, and deletes it again. A namespace given here fills in objects that
 * name none; cluster-scoped kinds ignore it.
 */
import { PatchStrategy, loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { isNotFound, type Cluster } from './cluster.js';

const FIELD_MANAGER = 'skein-e2e';
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
]);

export function parseYaml(yaml: string, namespace?: string): KubernetesObject[] {
  return loadAllYaml(yaml)
    .filter((doc): doc is KubernetesObject => typeof doc === 'object' && doc !== null && 'kind' in doc)
    .map((obj) => {
      if (
        namespace !== undefined &&
        !CLUSTER_SCOPED.has(obj.kind ?? '') &&
        obj.metadata?.namespace === undefined
      ) {
        return { ...obj, metadata: { ...obj.metadata, namespace } };
      }
      return obj;
    });
}

export async function apply(cluster: Cluster, yaml: string, namespace?: string): Promise<KubernetesObject[]> {
  const applied: KubernetesObject[] = [];
  for (const obj of parseYaml(yaml, namespace)) {
    applied.push(
      await cluster.objects.patch(
        obj,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      ),
    );
  }
  return applied;
}

export async function remove(cluster: Cluster, yaml: string, namespace?: string): Promise<void> {
  for (const obj of parseYaml(yaml, namespace).reverse()) {
    try {
      await cluster.objects.delete(obj, undefined, undefined, 0, undefined, 'Background');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
