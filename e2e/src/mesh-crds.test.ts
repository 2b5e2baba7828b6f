// The generated mesh CRDs (manifests/crds) on a real kube-apiserver: they install and become
// Established, every realistic manifest of the api-types corpus is accepted under each served
// version, and a wrong-typed field is rejected by the API server itself with its field path.
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { request } from 'node:https';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiServerUnavailable, startApiServer, type ApiServer } from '@skein/ca/testing';

const root = join(import.meta.dirname, '../..');
const crdDir = join(root, 'manifests/crds');
const corpus = (file: string) =>
  parseAllDocuments(readFileSync(join(root, 'packages/api-types/testdata/mesh', file), 'utf8')).map(
    (d) =>
      d.toJS() as {
        apiVersion: string;
        kind: string;
        metadata: { name: string; namespace?: string };
        spec: Record<string, unknown>;
      },
  );
const plural = (kind: string) =>
  readdirSync(crdDir)
    .map(
      (f) =>
        parse(readFileSync(join(crdDir, f), 'utf8')) as { spec: { names: { kind: string; plural: string } } },
    )
    .find((c) => c.spec.names.kind === kind)?.spec.names.plural as string;

const unavailable = apiServerUnavailable();

describe.skipIf(unavailable !== '')(
  `mesh CRDs on a real kube-apiserver${unavailable ? ` — skipped: ${unavailable}` : ''}`,
  () => {
    let api: ApiServer;
    let custom: CustomObjectsApi;
    beforeAll(async () => {
      api = await startApiServer();
      const kc = new KubeConfig();
      kc.loadFromFile(api.kubeconfigPath);
      const ext = kc.makeApiClient(ApiextensionsV1Api);
      custom = kc.makeApiClient(CustomObjectsApi);
      const names: string[] = [];
      // The CRD files go to the API server byte for byte as kubectl would send them (the typed
      // client would re-map field names such as x-kubernetes-preserve-unknown-fields).
      const ca = Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64');
      for (const f of readdirSync(crdDir).filter((x) => x.endsWith('.yaml'))) {
        const crd = parse(readFileSync(join(crdDir, f), 'utf8')) as { metadata: { name: string } };
        const status = await new Promise<number>((resolve, reject) => {
          const req = request(
            `${api.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`,
            {
              method: 'POST',
              ca,
              headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
            },
            (res) => {
              let body = '';
              res.on('data', (d: Buffer) => (body += d.toString()));
              res.on('end', () =>
                res.statusCode === 201 ? resolve(201) : reject(new Error(`${f}: ${res.statusCode} ${body}`)),
              );
            },
          );
          req.on('error', reject);
          req.end(JSON.stringify(crd));
        });
        expect(status).toBe(201);
        names.push(crd.metadata.name);
      }
      const core = kc.makeApiClient(CoreV1Api);
      for (const ns of ['bookinfo', 'istio-system', 'demo'])
        await core.createNamespace({ body: { metadata: { name: ns } } });
      const deadline = Date.now() + 60_000;
      for (const name of names) {
        for (;;) {
          const crd = await ext.readCustomResourceDefinition({ name });
          if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
          if (Date.now() > deadline)
            throw new Error(`${name} never became Established: ${JSON.stringify(crd.status)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }, 180_000);
    afterAll(() => api?.stop());

    const create = (
      o: { apiVersion: string; kind: string; metadata: { namespace?: string } },
      body: unknown = o,
    ) => {
      const [group, version] = o.apiVersion.split('/') as [string, string];
      return custom.createNamespacedCustomObject({
        group,
        version,
        namespace: o.metadata.namespace ?? 'default',
        plural: plural(o.kind),
        body,
      });
    };

    it.each(
      [...corpus('valid.yaml'), ...corpus('warnings.yaml')].map(
        (o) => [`${o.kind} ${o.metadata.name}`, o] as const,
      ),
    )('accepts %s', async (_, o) => {
      await expect(create(o)).resolves.toBeTruthy();
    });

    it('serves every listed version of a kind', async () => {
      for (const version of ['v1', 'v1beta1', 'v1alpha3']) {
        const o = {
          apiVersion: `networking.istio.io/${version}`,
          kind: 'VirtualService',
          metadata: { name: `vs-${version}`, namespace: 'default' },
          spec: { hosts: ['a'] },
        };
        await expect(create(o)).resolves.toBeTruthy();
      }
    });

    const wrong: [string, Record<string, unknown>, string][] = [
      [
        'hosts as a string',
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: 'w1', namespace: 'default' },
          spec: { hosts: 'reviews' },
        },
        'spec.hosts',
      ],
      [
        'a weight as a string',
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: 'w2', namespace: 'default' },
          spec: { hosts: ['r'], http: [{ route: [{ destination: { host: 'r' }, weight: '90' }] }] },
        },
        'spec.http[0].route[0].weight',
      ],
      [
        'maxConnections as a string',
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'DestinationRule',
          metadata: { name: 'w3', namespace: 'default' },
          spec: { host: 'r', trafficPolicy: { connectionPool: { tcp: { maxConnections: '100' } } } },
        },
        'spec.trafficPolicy.connectionPool.tcp.maxConnections',
      ],
      [
        'a port number as a word',
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'Gateway',
          metadata: { name: 'w4', namespace: 'default' },
          spec: { servers: [{ port: { number: 'eighty', protocol: 'HTTP' }, hosts: ['*'] }] },
        },
        'spec.servers[0].port.number',
      ],
      [
        'an unknown mTLS mode',
        {
          apiVersion: 'security.istio.io/v1',
          kind: 'PeerAuthentication',
          metadata: { name: 'w5', namespace: 'default' },
          spec: { mtls: { mode: 'REQUIRED' } },
        },
        'spec.mtls.mode',
      ],
      [
        'a sampling percentage above 100',
        {
          apiVersion: 'telemetry.istio.io/v1',
          kind: 'Telemetry',
          metadata: { name: 'w6', namespace: 'default' },
          spec: { tracing: [{ randomSamplingPercentage: 250 }] },
        },
        'spec.tracing[0].randomSamplingPercentage',
      ],
    ];
    it.each(wrong)('rejects %s with the field path', async (_, o, path) => {
      const err = await create(o as never).then(
        () => undefined,
        (e: unknown) => e as { code?: number; body?: unknown },
      );
      expect(err, 'the API server accepted a wrong-typed field').toBeDefined();
      expect(err?.code).toBe(422);
      expect(String(err?.body)).toContain(path);
    });
  },
);
