// The Kubernetes source against a real kube-apiserver + etcd: mesh CRDs, Services,
// EndpointSlices and Pods become xDS; an invalid object gets a status condition; after an API
// server restart the informers reconnect and later changes still arrive; the mesh ConfigMap and
// Namespaces are followed live.
import * as k8s from '@kubernetes/client-node';
import { crdOf, meshKinds, TypeUrl } from '@skein/api-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';
import { AdsClient } from './support/ads-client.js';
import { apiServerUnavailable, startApiServer, type ApiServer } from '@skein/ca/testing';

const apiServerMissing = apiServerUnavailable(undefined, { kubectl: true });

const HOST = 'reviews.default.svc.cluster.local';

// Skipped only where the binaries have not been built (the reason is printed by vitest).
describe.skipIf(apiServerMissing !== '')(
  `Kubernetes source against a real API server ${apiServerMissing}`,
  () => {
    let api: ApiServer;
    let cp: RunningControlPlane;
    let client: AdsClient;
    let kc: k8s.KubeConfig;

    const vs = (v1: number) => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews', namespace: 'default' },
      spec: {
        hosts: ['reviews'],
        http: [
          {
            match: [{ headers: { 'end-user': { exact: 'jason' } } }],
            route: [{ destination: { host: 'reviews', subset: 'v2' } }],
          },
          {
            route: [
              { destination: { host: 'reviews', subset: 'v1' }, weight: v1 },
              { destination: { host: 'reviews', subset: 'v2' }, weight: 100 - v1 },
            ],
          },
        ],
      },
    });

    beforeAll(async () => {
      api = await startApiServer();
      kc = new k8s.KubeConfig();
      kc.loadFromFile(api.kubeconfigPath);
      await api.apply(meshKinds.map((kind) => crdOf(kind)));
      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      // CRDs take a moment to be served: retry the first create until the resource exists.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const created = await custom
          .createNamespacedCustomObject({
            group: 'networking.istio.io',
            version: 'v1',
            namespace: 'default',
            plural: 'destinationrules',
            body: {
              apiVersion: 'networking.istio.io/v1',
              kind: 'DestinationRule',
              metadata: { name: 'reviews' },
              spec: {
                host: 'reviews',
                subsets: [
                  { name: 'v1', labels: { version: 'v1' } },
                  { name: 'v2', labels: { version: 'v2' } },
                ],
              },
            },
          })
          .then(
            () => true,
            (e: unknown) => (Date.now() > deadline ? Promise.reject(e) : false),
          );
        if (created) break;
        await new Promise((r) => setTimeout(r, 200)); // the API server establishes CRDs asynchronously
      }
      await custom.createNamespacedCustomObject({
        group: 'networking.istio.io',
        version: 'v1',
        namespace: 'default',
        plural: 'virtualservices',
        body: vs(90),
      });
      await custom.createNamespacedCustomObject({
        group: 'networking.istio.io',
        version: 'v1',
        namespace: 'default',
        plural: 'virtualservices',
        body: {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: 'broken' },
          spec: {
            hosts: ['x'],
            http: [{ match: [{ uri: { regex: '(?=x)' } }], route: [{ destination: { host: 'x' } }] }],
          },
        },
      });
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.createNamespacedService({
        namespace: 'default',
        body: {
          metadata: { name: 'reviews' },
          spec: {
            ports: [{ name: 'http', port: 9080, targetPort: 9080 as unknown as k8s.IntOrString }],
            selector: { app: 'reviews' },
          },
        },
      });
      for (const [name, version, ip] of [
        ['reviews-v1', 'v1', '10.244.0.11'],
        ['reviews-v2', 'v2', '10.244.0.12'],
      ] as const)
        await core
          .createNamespacedPod({
            namespace: 'default',
            body: {
              metadata: { name, labels: { app: 'reviews', version } },
              spec: {
                serviceAccountName: 'reviews',
                containers: [{ name: 'app', image: `reviews:${version}` }],
              },
            },
          })
          .then(() => ip);
      await kc.makeApiClient(k8s.DiscoveryV1Api).createNamespacedEndpointSlice({
        namespace: 'default',
        body: {
          metadata: { name: 'reviews-1', labels: { 'kubernetes.io/service-name': 'reviews' } },
          addressType: 'IPv4',
          ports: [{ name: 'http', port: 9080 }],
          endpoints: [
            {
              addresses: ['10.244.0.11'],
              targetRef: { kind: 'Pod', name: 'reviews-v1', namespace: 'default' },
            },
            {
              addresses: ['10.244.0.12'],
              targetRef: { kind: 'Pod', name: 'reviews-v2', namespace: 'default' },
            },
          ],
        },
      });
      cp = await startControlPlane({
        kubeconfig: api.kubeconfigPath,
        xdsAddr: '127.0.0.1:0',
        httpAddr: '127.0.0.1:0',
        debounceMs: 10,
        debounceMaxMs: 100,
        logLevel: 'none',
      });
      client = new AdsClient({
        address: cp.xdsAddress,
        nodeId: 'sidecar~10.244.0.5~productpage.default~default.svc.cluster.local',
        metadata: { NAMESPACE: 'default', LABELS: { app: 'productpage' } },
      });
    }, 180_000);

    afterAll(async () => {
      client?.close();
      await cp?.stop();
      await api?.stop();
    }, 60_000);

    it('turns Services, EndpointSlices, Pods and mesh CRDs into routes, clusters and endpoints', async () => {
      const route = () => JSON.stringify(client.resource(TypeUrl.RouteConfiguration, '9080') ?? {});
      await client.until(
        () => route().includes(`outbound|9080|v2|${HOST}`) && route().includes('"weight":90'),
        30_000,
      );
      await client.until(
        () =>
          JSON.stringify(
            client.resource(TypeUrl.ClusterLoadAssignment, `outbound|9080|v2|${HOST}`) ?? {},
          ).includes('10.244.0.12'),
        30_000,
      );
      const v2 = client.resource(TypeUrl.ClusterLoadAssignment, `outbound|9080|v2|${HOST}`) as {
        endpoints: { lbEndpoints: unknown[] }[];
      };
      expect(v2.endpoints.flatMap((e) => e.lbEndpoints)).toHaveLength(1);
    });

    it('writes a status condition on an invalid object and skips only it', async () => {
      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      await expect
        .poll(
          async () =>
            (
              (await custom.getNamespacedCustomObjectStatus({
                group: 'networking.istio.io',
                version: 'v1',
                namespace: 'default',
                plural: 'virtualservices',
                name: 'broken',
              })) as { status?: { conditions?: { reason: string; message: string }[] } }
            ).status?.conditions?.[0],
          { interval: 100, timeout: 20_000 },
        )
        .toMatchObject({
          reason: 'ValidationFailed',
          message: expect.stringContaining('spec.http[0].match[0].uri.regex'),
        });
      expect(cp.rejected().some((p) => p.object.includes('broken'))).toBe(true);
      expect(
        cp.store
          .list()
          .map((o) => o.metadata.name)
          .sort(),
      ).toEqual(['reviews', 'reviews']);
    });

    it('reconnects after an API server restart and keeps following changes', async () => {
      await api.restart();
      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      await custom.replaceNamespacedCustomObject({
        group: 'networking.istio.io',
        version: 'v1',
        namespace: 'default',
        plural: 'virtualservices',
        name: 'reviews',
        body: {
          ...vs(30),
          metadata: {
            ...vs(30).metadata,
            resourceVersion: (
              (await custom.getNamespacedCustomObject({
                group: 'networking.istio.io',
                version: 'v1',
                namespace: 'default',
                plural: 'virtualservices',
                name: 'reviews',
              })) as { metadata: { resourceVersion: string } }
            ).metadata.resourceVersion,
          },
        },
      });
      await client.until(
        () =>
          JSON.stringify(client.resource(TypeUrl.RouteConfiguration, '9080') ?? {}).includes('"weight":30'),
        60_000,
      );
    }, 120_000);

    it('follows the mesh ConfigMap (skein-system/istio, key mesh): created, edited, deleted', async () => {
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const route = () => JSON.stringify(client.resource(TypeUrl.RouteConfiguration, '9080') ?? {});
      await core.createNamespace({ body: { metadata: { name: 'skein-system' } } });
      await core.createNamespacedConfigMap({
        namespace: 'skein-system',
        body: {
          metadata: { name: 'istio' },
          data: { mesh: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n' },
        },
      });
      await client.until(() => route().includes('block_all'), 30_000);
      // An invalid edit is rejected and the last good mesh config stays; a valid one applies.
      await core.replaceNamespacedConfigMap({
        namespace: 'skein-system',
        name: 'istio',
        body: { metadata: { name: 'istio' }, data: { mesh: 'outboundTrafficPolicy: { mode: SOMETIMES }' } },
      });
      await core.replaceNamespacedConfigMap({
        namespace: 'skein-system',
        name: 'istio',
        body: {
          metadata: { name: 'istio' },
          data: { mesh: 'outboundTrafficPolicy: { mode: REGISTRY_ONLY }\nrootNamespace: mesh-root\n' },
        },
      });
      await expect.poll(() => cp.snapshot().mesh.rootNamespace, { timeout: 20_000 }).toBe('mesh-root');
      expect(route()).toContain('block_all');
      await core.deleteNamespacedConfigMap({ namespace: 'skein-system', name: 'istio' });
      await client.until(() => route().includes('allow_any'), 30_000);
      expect(cp.snapshot().mesh.rootNamespace).toBe('istio-system');
    }, 60_000);

    it('watches Namespaces and their labels', async () => {
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.createNamespace({
        body: { metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } } },
      });
      await expect
        .poll(() => cp.snapshot().namespaces.get('shop')?.['istio-injection'], { timeout: 20_000 })
        .toBe('enabled');
      await core.patchNamespace(
        { name: 'shop', body: { metadata: { labels: { 'istio-injection': 'disabled' } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await expect
        .poll(() => cp.snapshot().namespaces.get('shop')?.['istio-injection'], { timeout: 20_000 })
        .toBe('disabled');
      expect(cp.snapshot().namespaces.has('default')).toBe(true);
    }, 60_000);

    it('follows TLS Secrets for credentialName, and ignores Secrets that hold no credential', async () => {
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const pem = (what: string) => `-----BEGIN ${what}-----\nAAAA\n-----END ${what}-----\n`;
      const secrets = () =>
        (cp.snapshot().byKind.get('Secret') ?? [])
          .map((o) => `${o.metadata.namespace}/${o.metadata.name}`)
          .sort();
      await core.createNamespacedSecret({
        namespace: 'default',
        body: {
          metadata: { name: 'web-cred' },
          type: 'kubernetes.io/tls',
          stringData: { 'tls.crt': pem('CERTIFICATE'), 'tls.key': pem('PRIVATE KEY') },
        },
      });
      await core.createNamespacedSecret({
        namespace: 'default',
        body: { metadata: { name: 'db-password' }, stringData: { password: 'hunter2' } },
      });
      await expect.poll(secrets, { timeout: 20_000 }).toEqual(['default/web-cred']);
      await core.deleteNamespacedSecret({ namespace: 'default', name: 'web-cred' });
      await expect.poll(secrets, { timeout: 20_000 }).toEqual([]);
    }, 60_000);

    it('honours discoverySelectors: services of unselected namespaces leave, and return when labelled', async () => {
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
      const pay = 'outbound|8080||pay.ext.svc.cluster.local';
      const reviews = `outbound|9080||${HOST}`;
      await core.createNamespace({ body: { metadata: { name: 'ext' } } });
      await core.createNamespacedService({
        namespace: 'ext',
        body: {
          metadata: { name: 'pay' },
          spec: { ports: [{ name: 'http', port: 8080 }], selector: { app: 'pay' } },
        },
      });
      await client.until(() => client.resource(TypeUrl.Cluster, pay) !== undefined, 30_000);
      await core.patchNamespace({ name: 'default', body: { metadata: { labels: { mesh: 'on' } } } }, merge);
      await core
        .readNamespace({ name: 'skein-system' })
        .catch(() => core.createNamespace({ body: { metadata: { name: 'skein-system' } } }));
      await core.createNamespacedConfigMap({
        namespace: 'skein-system',
        body: {
          metadata: { name: 'istio' },
          data: { mesh: 'discoverySelectors:\n  - matchLabels: { mesh: "on" }\n' },
        },
      });
      await client.until(() => client.resource(TypeUrl.Cluster, pay) === undefined, 30_000);
      expect(client.resource(TypeUrl.Cluster, reviews)).toBeDefined(); // default is selected
      await core.patchNamespace({ name: 'ext', body: { metadata: { labels: { mesh: 'on' } } } }, merge);
      await client.until(() => client.resource(TypeUrl.Cluster, pay) !== undefined, 30_000);
      await core.deleteNamespacedConfigMap({ namespace: 'skein-system', name: 'istio' });
    }, 120_000);
  },
);
