// skeind's admission webhooks for real: HTTPS on a loopback port with the embedded CA's serving
// certificate (verified against the mesh root under the name skeind.skein-system.svc, and swapped
// when the CA reissues it), real AdmissionReview JSON in and out; then a real kube-apiserver
// calling them back through `url:` webhook configurations whose caBundle skeind patched itself:
// a pod in an `istio-injection=enabled` namespace is stored injected, one with
// `sidecar.istio.io/inject: "false"` is not, an invalid VirtualService is refused with its field.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import * as k8s from '@kubernetes/client-node';
import { crdOf, meshKinds } from '@skein/api-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type RunningControlPlane } from '../src/index.js';
import { apiServerUnavailable, startApiServer, type ApiServer } from '@skein/ca/testing';

const apiServerMissing = apiServerUnavailable(undefined, { kubectl: true });

interface Answer {
  status: number;
  body: { response?: Record<string, unknown> } & Record<string, unknown>;
  serial: string;
}

function post(address: string, rootPem: string, path: string, body: unknown): Promise<Answer> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.split(':').pop())];
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, path, method: 'POST', ca: rootPem, servername: 'skeind.skein-system.svc', agent: false },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text) as Answer['body'],
            serial: (res.socket as TLSSocket).getPeerCertificate().serialNumber,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const reviewOf = (object: unknown, extra: Record<string, unknown> = {}) => {
  const mesh = (object as { kind?: string }).kind === 'VirtualService';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'e0b5c3a2',
      operation: 'CREATE',
      kind: mesh
        ? { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' }
        : { group: '', version: 'v1', kind: 'Pod' },
      resource: mesh
        ? { group: 'networking.istio.io', version: 'v1', resource: 'virtualservices' }
        : { group: '', version: 'v1', resource: 'pods' },
      ...extra,
      object,
    },
  };
};

const badVs = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews' },
  spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' }, weight: -5 }] }] },
};

describe('admission webhooks over HTTPS', () => {
  let cp: RunningControlPlane;
  const dir = mkdtempSync(join(tmpdir(), 'skein-webhook-'));
  beforeAll(async () => {
    cp = await startControlPlane({
      xdsAddr: '127.0.0.1:0',
      httpAddr: '127.0.0.1:0',
      logLevel: 'none',
      // a 4 s serving certificate is reissued after 2 s: the rotation test waits for it
      ca: { dir, secureAddr: '127.0.0.1:0', servingTtlSeconds: 4 },
      webhook: { addr: '127.0.0.1:0', injector: { proxyImage: 'skein/proxy:test' } },
    });
  });
  afterAll(async () => {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('injects a pod: an AdmissionReview answer with a JSONPatch adding the sidecar', async () => {
    const pod = {
      metadata: { generateName: 'web-', labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'w' }] },
    };
    const a = await post(
      cp.webhooks!.address,
      cp.ca!.rootCertPem,
      '/inject',
      reviewOf(pod, { namespace: 'apps' }),
    );
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    expect(a.body.response).toMatchObject({ uid: 'e0b5c3a2', allowed: true, patchType: 'JSONPatch' });
    const ops = JSON.parse(Buffer.from(String(a.body.response?.['patch']), 'base64').toString()) as {
      path: string;
      value: unknown;
    }[];
    const init = ops.find((o) => o.path === '/spec/initContainers')?.value as {
      name: string;
      image: string;
    }[];
    expect(init.map((c) => [c.name, c.image])).toEqual([
      ['istio-init', 'skein/proxy:test'],
      ['istio-proxy', 'skein/proxy:test'],
    ]);
  });

  it('refuses an invalid VirtualService naming the object, the field and the reason', async () => {
    const a = await post(
      cp.webhooks!.address,
      cp.ca!.rootCertPem,
      '/validate',
      reviewOf(badVs, { namespace: 'bookinfo' }),
    );
    expect(a.body.response).toMatchObject({ uid: 'e0b5c3a2', allowed: false, status: { code: 400 } });
    const message = String((a.body.response?.['status'] as { message: string }).message);
    expect(message).toMatch(/VirtualService bookinfo\/reviews: spec\.http\[0\]\.route\[0\]\.weight: /);
  });

  it('answers 400 to a body that is not an AdmissionReview and 404 elsewhere', async () => {
    expect((await post(cp.webhooks!.address, cp.ca!.rootCertPem, '/validate', { kind: 'Pod' })).status).toBe(
      400,
    );
    expect((await post(cp.webhooks!.address, cp.ca!.rootCertPem, '/nothing', {})).status).toBe(404);
  });

  it("counts the answers in skeind's /metrics under istiod's names", async () => {
    const pod = { metadata: { name: 'm' }, spec: { containers: [{ name: 'm', image: 'm' }] } };
    await post(cp.webhooks!.address, cp.ca!.rootCertPem, '/inject', reviewOf(pod, { namespace: 'apps' }));
    await post(cp.webhooks!.address, cp.ca!.rootCertPem, '/validate', reviewOf(badVs, { namespace: 'x' }));
    const text = await (await fetch(`http://${cp.httpAddress}/metrics`)).text();
    expect(text).toMatch(/^sidecar_injection_requests_total [1-9]/m);
    expect(text).toMatch(/^sidecar_injection_success_total [1-9]/m);
    expect(text).toMatch(
      /^galley_validation_failed\{group="networking.istio.io",version="v1",resource="virtualservices",reason="invalid_config"\} [1-9]/m,
    );
  });

  it('serves the reissued certificate to new connections after the CA rotates it', async () => {
    const before = (await post(cp.webhooks!.address, cp.ca!.rootCertPem, '/validate', reviewOf(badVs)))
      .serial;
    await new Promise<void>((resolve) => cp.ca!.onServingRotated(() => resolve()));
    const after = (await post(cp.webhooks!.address, cp.ca!.rootCertPem, '/validate', reviewOf(badVs))).serial;
    expect(after).not.toBe(before);
  }, 15_000);
});

describe.skipIf(apiServerMissing !== '')(
  `webhooks called by a real kube-apiserver ${apiServerMissing}`,
  () => {
    let api: ApiServer;
    let cp: RunningControlPlane;
    let core: k8s.CoreV1Api;
    let custom: k8s.CustomObjectsApi;
    const dir = mkdtempSync(join(tmpdir(), 'skein-webhook-kube-'));

    beforeAll(async () => {
      api = await startApiServer();
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(api.kubeconfigPath);
      core = kc.makeApiClient(k8s.CoreV1Api);
      custom = kc.makeApiClient(k8s.CustomObjectsApi);
      await core.createNamespace({ body: { metadata: { name: 'skein-system' } } });
      await core.createNamespace({
        body: { metadata: { name: 'apps', labels: { 'istio-injection': 'enabled' } } },
      });
      await api.apply(meshKinds.map((kind) => crdOf(kind)));
      cp = await startControlPlane({
        kubeconfig: api.kubeconfigPath,
        meshConfigMap: false,
        xdsAddr: '127.0.0.1:0',
        httpAddr: '127.0.0.1:0',
        logLevel: 'none',
        ca: { dir, secureAddr: '127.0.0.1:0', kubernetes: { publishRoot: false } },
        webhook: {
          addr: '127.0.0.1:0',
          injector: { proxyImage: 'skein/proxy:test' },
          caBundleResyncMs: 3_600_000,
        },
      });
      const url = (path: string) => ({ url: `https://${cp.webhooks!.address}${path}` });
      const common = { sideEffects: 'None', admissionReviewVersions: ['v1'], timeoutSeconds: 5 };
      // No caBundle: skeind patches it (the API server cannot call the webhook before).
      await api.apply([
        {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'MutatingWebhookConfiguration',
          metadata: { name: 'skein-sidecar-injector' },
          webhooks: [
            {
              ...common,
              name: 'namespace.sidecar-injector.istio.io',
              clientConfig: url('/inject'),
              failurePolicy: 'Fail',
              rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
              namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } },
              objectSelector: {
                matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }],
              },
            },
          ],
        },
        {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingWebhookConfiguration',
          metadata: { name: 'skein-validator' },
          webhooks: [
            {
              ...common,
              name: 'validation.istio.io',
              clientConfig: url('/validate'),
              // As installed (manifests/control-plane/webhooks.yaml): skeind switches it to Fail.
              failurePolicy: 'Ignore',
              rules: [
                {
                  operations: ['CREATE', 'UPDATE'],
                  apiGroups: ['networking.istio.io', 'security.istio.io', 'telemetry.istio.io'],
                  apiVersions: ['*'],
                  resources: ['*'],
                },
              ],
            },
          ],
        },
      ]);
      await cp.webhooks!.patcher!.reconcile();
      // The API server takes a changed configuration in within moments: until it calls the
      // validator, the policy stays Ignore and each pass checks again.
      const reg = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
      const policy = async () =>
        (await reg.readValidatingWebhookConfiguration({ name: 'skein-validator' })).webhooks?.[0]
          ?.failurePolicy;
      while ((await policy()) !== 'Fail') {
        await new Promise((r) => setTimeout(r, 200));
        await cp.webhooks!.patcher!.reconcile();
      }
    }, 150_000);

    afterAll(async () => {
      await cp?.stop();
      await api?.stop();
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it("patches both configurations' caBundle with the mesh root", async () => {
      const adm = new k8s.KubeConfig();
      adm.loadFromFile(api.kubeconfigPath);
      const reg = adm.makeApiClient(k8s.AdmissionregistrationV1Api);
      const m = await reg.readMutatingWebhookConfiguration({ name: 'skein-sidecar-injector' });
      const v = await reg.readValidatingWebhookConfiguration({ name: 'skein-validator' });
      for (const w of [...(m.webhooks ?? []), ...(v.webhooks ?? [])])
        expect(Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString()).toBe(cp.ca!.rootCertPem);
      // The validator answers, so its failurePolicy went from Ignore to Fail (as istiod does).
      expect(v.webhooks?.[0]?.failurePolicy).toBe('Fail');
      expect(m.webhooks?.[0]?.failurePolicy).toBe('Fail');
      // a second pass finds nothing to do
      expect(await cp.webhooks!.patcher!.reconcile()).toEqual([]);
    });

    it('stores a pod created in an istio-injection=enabled namespace with the sidecar', async () => {
      const pod = await core.createNamespacedPod({
        namespace: 'apps',
        body: {
          metadata: { name: 'web', labels: { app: 'web', version: 'v1' } },
          spec: { serviceAccountName: 'default', containers: [{ name: 'web', image: 'web:1' }] },
        },
      });
      expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(['istio-init', 'istio-proxy']);
      expect(pod.spec?.initContainers?.[1]?.restartPolicy).toBe('Always');
      expect(pod.metadata?.labels?.['security.istio.io/tlsMode']).toBe('istio');
      expect(pod.metadata?.annotations?.['sidecar.istio.io/status']).toContain('istio-proxy');
    });

    it('leaves a pod labelled sidecar.istio.io/inject: "false" alone', async () => {
      const pod = await core.createNamespacedPod({
        namespace: 'apps',
        body: {
          metadata: { name: 'plain', labels: { app: 'plain', 'sidecar.istio.io/inject': 'false' } },
          spec: { containers: [{ name: 'plain', image: 'plain:1' }] },
        },
      });
      expect(pod.spec?.initContainers ?? []).toEqual([]);
    });

    it("follows the istio-sidecar-injector ConfigMap's neverInjectSelector", async () => {
      await core.createNamespacedConfigMap({
        namespace: 'skein-system',
        body: {
          metadata: { name: 'istio-sidecar-injector' },
          data: { config: 'policy: enabled\nneverInjectSelector:\n  - matchLabels: { app: batch }\n' },
        },
      });
      await cp.webhooks!.refreshInjectorConfigMap();
      const pod = await core.createNamespacedPod({
        namespace: 'apps',
        body: {
          metadata: { name: 'batch', labels: { app: 'batch' } },
          spec: { serviceAccountName: 'default', containers: [{ name: 'batch', image: 'batch:1' }] },
        },
      });
      expect(pod.spec?.initContainers ?? []).toEqual([]);
    });

    it('refuses an invalid VirtualService with the field and the reason; kubectl prints them', async () => {
      const err = await custom
        .createNamespacedCustomObject({
          group: 'networking.istio.io',
          version: 'v1',
          namespace: 'apps',
          plural: 'virtualservices',
          body: badVs,
        })
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      expect(String(err?.message)).toMatch(
        /denied the request: configuration is invalid: VirtualService apps\/reviews: spec\.http\[0\]\.route\[0\]\.weight/,
      );
      await expect(
        api.apply([{ ...badVs, metadata: { name: 'reviews', namespace: 'apps' } }]),
      ).rejects.toThrow(/validation.istio.io.* denied the request: .*spec\.http\[0\]\.route\[0\]\.weight/);
      // a valid one goes through
      await custom.createNamespacedCustomObject({
        group: 'networking.istio.io',
        version: 'v1',
        namespace: 'apps',
        plural: 'virtualservices',
        body: {
          ...badVs,
          spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] },
        },
      });
    });
  },
);
