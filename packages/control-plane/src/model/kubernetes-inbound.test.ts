import { describe, expect, it } from 'vitest';
import { DEFAULT_MESH_CONFIG } from './mesh-config.js';
import { servicesFromKubernetes } from './kubernetes-services.js';
import { buildSnapshot } from './snapshot.js';
import { generate, proxy } from '../../test/support/translate.js';

// A sidecar becomes a ready endpoint only once its proxy is ready, so its inbound side must not
// wait for the EndpointSlice: the Service's selector is enough.
describe('inbound config of a pod that is not (yet) a ready endpoint', () => {
  const services = (ready: boolean) =>
    servicesFromKubernetes(
      [
        {
          metadata: { name: 'echo', namespace: 'demo' },
          spec: {
            clusterIP: '10.96.0.20',
            selector: { app: 'echo' },
            ports: [
              { name: 'http', port: 80, targetPort: 8080 },
              { name: 'grpc', port: 7070, targetPort: 'grpc-port' },
            ],
          },
        },
      ],
      [
        {
          metadata: { name: 'echo-abc', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'echo' } },
          ports: [
            { name: 'http', port: 8080 },
            { name: 'grpc', port: 7071 },
          ],
          endpoints: [{ addresses: ['10.244.0.9'], conditions: { ready } }],
        },
      ],
      [],
    );
  const names = (l: Record<string, unknown>[]) => l.map((x) => x['name']);

  it('serves the numeric target ports of the Services that select it', () => {
    const snap = buildSnapshot({
      version: 't',
      mesh: DEFAULT_MESH_CONFIG,
      objects: [],
      registryServices: services(false),
    });
    const out = generate(snap, proxy({ ip: '10.244.0.9', namespace: 'demo', labels: { app: 'echo' } }));
    expect(names(out.clusters)).toContain('inbound|8080||');
    // a named targetPort resolves only through the pod's endpoint
    expect(names(out.clusters)).not.toContain('inbound|7071||');
    const other = generate(snap, proxy({ ip: '10.244.0.10', namespace: 'demo', labels: { app: 'other' } }));
    expect(names(other.clusters)).not.toContain('inbound|8080||');
  });

  it('uses the endpoint ports once the pod is ready', () => {
    const snap = buildSnapshot({
      version: 't',
      mesh: DEFAULT_MESH_CONFIG,
      objects: [],
      registryServices: services(true),
    });
    const out = generate(snap, proxy({ ip: '10.244.0.9', namespace: 'demo', labels: { app: 'echo' } }));
    expect(names(out.clusters)).toEqual(expect.arrayContaining(['inbound|8080||', 'inbound|7071||']));
  });
});
