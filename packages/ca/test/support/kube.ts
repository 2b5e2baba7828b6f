// The CA's Kubernetes tests' side of the kube-apiserver fixture: an admin KubeClient for it, and
// creating a namespace (the status code is returned for the test to check).
import { KubeClient } from '../../src/kube/kube-client.js';
import type { ApiServer } from '../../src/testing/index.js';

export function adminClient(api: ApiServer): KubeClient {
  return new KubeClient({ server: api.url, token: api.token, caPem: api.caPem });
}

export async function createNamespace(kube: KubeClient, name: string): Promise<number> {
  const r = await kube.call('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  });
  return r.status;
}
