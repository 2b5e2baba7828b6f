import { AppsV1Api, CoreV1Api, KubeConfig, ApiextensionsV1Api } from '@kubernetes/client-node';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiServerUnavailable, startApiServer, type ApiServer } from '@skein/ca/testing';

const unavailable = apiServerUnavailable();

// Skipped (with the reason printed) only where the binaries were never built on this machine.
describe.skipIf(unavailable !== '')(
  `kube-apiserver fixture${unavailable ? ` — skipped: ${unavailable}` : ''}`,
  () => {
    let api: ApiServer;
    let kc: KubeConfig;
    beforeAll(async () => {
      api = await startApiServer();
      kc = new KubeConfig();
      kc.loadFromFile(api.kubeconfigPath);
    });
    afterAll(() => api?.stop());

    it('stores objects in etcd and serves them back', async () => {
      const core = kc.makeApiClient(CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: 'fixture-test' } } });
      await core.createNamespacedConfigMap({
        namespace: 'fixture-test',
        body: { metadata: { name: 'cm' }, data: { k: 'v' } },
      });
      const cm = await core.readNamespacedConfigMap({ name: 'cm', namespace: 'fixture-test' });
      expect(cm.data).toEqual({ k: 'v' });
    });

    it('establishes a CustomResourceDefinition', async () => {
      const ext = kc.makeApiClient(ApiextensionsV1Api);
      await ext.createCustomResourceDefinition({
        body: {
          metadata: { name: 'widgets.fixture.skein.dev' },
          spec: {
            group: 'fixture.skein.dev',
            names: { kind: 'Widget', plural: 'widgets', singular: 'widget' },
            scope: 'Namespaced',
            versions: [
              {
                name: 'v1',
                served: true,
                storage: true,
                schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
              },
            ],
          },
        },
      });
      const deadline = Date.now() + 30_000;
      let established = false;
      while (!established && Date.now() < deadline) {
        const crd = await ext.readCustomResourceDefinition({ name: 'widgets.fixture.skein.dev' });
        established =
          crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
        if (!established) await new Promise((r) => setTimeout(r, 200));
      }
      expect(established).toBe(true);
    });

    it('authorizes: an anonymous request is forbidden by RBAC (403)', async () => {
      const ca = Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64');
      const status = await new Promise<number>((resolve, reject) => {
        request(`${api.url}/api/v1/namespaces`, { ca }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
      expect(status).toBe(403);
    });
  },
);

const noControllerManager = apiServerUnavailable(undefined, { controllerManager: true });

describe.skipIf(noControllerManager !== '')(
  `kube-apiserver fixture with kube-controller-manager${noControllerManager ? ` — skipped: ${noControllerManager}` : ''}`,
  () => {
    let api: ApiServer;
    let kc: KubeConfig;
    beforeAll(async () => {
      api = await startApiServer({ controllerManager: true });
      kc = new KubeConfig();
      kc.loadFromFile(api.kubeconfigPath);
    });
    afterAll(() => api?.stop());

    /** Polls `probe` every 200 ms until it returns true; false after `ms`. */
    async function eventually(ms: number, probe: () => Promise<boolean>): Promise<boolean> {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (await probe()) return true;
        await new Promise((r) => setTimeout(r, 200));
      }
      return false;
    }

    it('rolls a Deployment out to a ReplicaSet and a (never scheduled) pod', async () => {
      const core = kc.makeApiClient(CoreV1Api);
      const apps = kc.makeApiClient(AppsV1Api);
      await core.createNamespace({ body: { metadata: { name: 'rollout' } } });
      await apps.createNamespacedDeployment({
        namespace: 'rollout',
        body: {
          metadata: { name: 'app' },
          spec: {
            selector: { matchLabels: { app: 'app' } },
            template: {
              metadata: { labels: { app: 'app' } },
              spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
            },
          },
        },
      });
      const podPending = await eventually(30_000, async () => {
        const pods = await core.listNamespacedPod({ namespace: 'rollout', labelSelector: 'app=app' });
        return pods.items.length === 1 && pods.items[0]?.status?.phase === 'Pending';
      });
      expect(podPending, 'the deployment and replicaset controllers made a pod').toBe(true);
    });

    it('finishes deleting a namespace and what was in it', async () => {
      const core = kc.makeApiClient(CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
      await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'cm' } } });
      await core.deleteNamespace({ name: 'doomed' });
      const gone = await eventually(60_000, async () => {
        const all = await core.listNamespace();
        return !all.items.some((n) => n.metadata?.name === 'doomed');
      });
      expect(gone, 'the namespace controller emptied and removed the namespace').toBe(true);
    });
  },
);
