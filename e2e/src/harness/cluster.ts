/**
 * The cluster under test: a KubeConfig loaded from $KUBECONFIG, else the kubeconfig
 * `npm run cluster:up` writes ($SKEIN_CACHE/kubeconfig-<cluster>), with the typed API clients
 * the suites use. Nothing here creates a cluster.
 */
import { existsSync } from 'node:fs';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  VersionApi,
} from '@kubernetes/client-node';

export const SKEIN_CACHE = process.env['SKEIN_CACHE'] ?? '/var/cache/skein';

export interface Cluster {
  readonly kubeconfig: KubeConfig;
  readonly kubeconfigPath: string;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly batch: BatchV1Api;
  readonly objects: KubernetesObjectApi;
  /** `v1.34.4`, as the API server reports it. */
  serverVersion(): Promise<string>;
}

export function defaultKubeconfigPath(): string {
  const env = process.env['KUBECONFIG'];
  if (env !== undefined && env !== '') return env.split(':')[0] ?? env;
  return `${SKEIN_CACHE}/kubeconfig-${process.env['SKEIN_CLUSTER'] ?? 'skein'}`;
}

export function connect(kubeconfigPath: string = defaultKubeconfigPath()): Cluster {
  if (!existsSync(kubeconfigPath)) {
    throw new Error(
      `no kubeconfig at ${kubeconfigPath}: run \`npm run cluster:up\` first (or set KUBECONFIG)`,
    );
  }
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(kubeconfigPath);
  const version = kubeconfig.makeApiClient(VersionApi);
  return {
    kubeconfig,
    kubeconfigPath,
    core: kubeconfig.makeApiClient(CoreV1Api),
    apps: kubeconfig.makeApiClient(AppsV1Api),
    batch: kubeconfig.makeApiClient(BatchV1Api),
    objects: KubernetesObjectApi.makeApiClient(kubeconfig),
    serverVersion: async () => (await version.getCode()).gitVersion,
  };
}

/** True when the error is the API server's 404. */
export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err as { code: unknown }).code === 404;
}
