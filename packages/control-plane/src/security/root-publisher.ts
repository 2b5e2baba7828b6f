// Kubernetes mode of the embedded CA: the mesh root published as ConfigMap istio-ca-root-cert in
// every namespace — all of them at start and at every resync (repairing edited or deleted
// ConfigMaps), and a namespace as soon as the namespace informer sees it created.
import * as k8s from '@kubernetes/client-node';
import { publishRootCert, type KubeApi } from '@skein/ca';
import type { Logger } from '../log.js';

export interface RootPublisherOptions {
  readonly kube: KubeApi;
  /** kubeconfig path, or undefined for the default lookup (KUBECONFIG, ~/.kube/config, in-cluster). */
  readonly kubeconfig: string | undefined;
  /** The trust bundle to publish (read at each publication: it changes with a root rotation). */
  readonly rootCertPem: () => string;
  /** Full re-publication period; default 60 s. */
  readonly resyncMs?: number | undefined;
  readonly log: Logger;
}

export interface RootPublisher {
  /** Re-publishes to every namespace now (after the CA's roots changed). */
  publishNow(): void;
  stop(): Promise<void>;
}

export async function startRootPublisher(o: RootPublisherOptions): Promise<RootPublisher> {
  let stopped = false;
  const publish = async (namespaces?: string[]): Promise<void> => {
    try {
      const changed = await publishRootCert(o.kube, o.rootCertPem(), namespaces);
      if (changed > 0) o.log.info('root certificate published', { configMaps: changed, namespaces });
    } catch (e) {
      o.log.warn('publishing the root certificate failed', { error: (e as Error).message });
    }
  };
  await publish();
  const resync = setInterval(() => void publish(), o.resyncMs ?? 60_000);
  resync.unref();

  const kc = new k8s.KubeConfig();
  if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
  else kc.loadFromDefault();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces', () => core.listNamespace());
  informer.on('add', (ns: k8s.V1Namespace) => {
    if (ns.metadata?.name && ns.status?.phase !== 'Terminating') void publish([ns.metadata.name]);
  });
  let retry: NodeJS.Timeout | undefined;
  let backoffMs = 500;
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    o.log.warn('namespace watch failed; restarting', { error: String(err), retryMs: backoffMs });
    retry = setTimeout(() => void informer.start().catch(() => undefined), backoffMs);
    backoffMs = Math.min(backoffMs * 2, 10_000);
  });
  informer.on('connect', () => (backoffMs = 500));
  await informer.start().catch(() => undefined);
  return {
    publishNow: () => void publish(),
    stop: async () => {
      stopped = true;
      clearInterval(resync);
      clearTimeout(retry);
      await informer.stop().catch(() => undefined);
    },
  };
}
