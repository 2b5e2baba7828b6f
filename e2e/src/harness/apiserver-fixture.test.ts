import { CoreV1Api, KubeConfig, ApiextensionsV1Api } from '@kubernetes/client-node';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiServerUnavailable, startApiServer, type ApiServer } from './apiserver-fixture.js';

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
