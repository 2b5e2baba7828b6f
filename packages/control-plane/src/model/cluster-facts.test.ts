import { describe, expect, it } from 'vitest';
import { clusterFactsOfWorkloads, type Service, type Workload } from './services.js';

const workload = (
  address: string,
  labels: Record<string, string> = {},
  serviceAccount = 'echo',
): Workload => ({
  name: address,
  namespace: 'demo',
  address,
  ports: {},
  labels,
  locality: '',
  weight: 1,
  serviceAccount,
  network: '',
});
const service = (workloads: Workload[]): Service => ({
  hostname: 'echo.demo.svc.cluster.local',
  namespace: 'demo',
  addresses: [],
  ports: [],
  resolution: 'STATIC',
  location: 'MESH_INTERNAL',
  exportTo: undefined,
  workloads,
  subjectAltNames: [],
  origin: 'Kubernetes demo/echo',
  registry: 'Kubernetes',
  createdAt: '',
});

// An endpoint change is pushed as EDS only when it leaves these equal; otherwise clusters (auto
// mTLS, expected SANs) would keep what the first endpoints implied.
describe("the cluster-level facts of a service's workloads", () => {
  const mesh = { 'security.istio.io/tlsMode': 'istio' };
  it('ignore addresses', () => {
    expect(clusterFactsOfWorkloads(service([workload('10.0.0.1', mesh)]))).toBe(
      clusterFactsOfWorkloads(service([workload('10.0.0.2', mesh), workload('10.0.0.3', mesh)])),
    );
  });
  it('see the first endpoint, a tlsMode label and a new service account', () => {
    const one = clusterFactsOfWorkloads(service([workload('10.0.0.1', mesh)]));
    expect(clusterFactsOfWorkloads(service([]))).not.toBe(one);
    expect(clusterFactsOfWorkloads(service([workload('10.0.0.1')]))).not.toBe(one);
    expect(clusterFactsOfWorkloads(service([workload('10.0.0.1', mesh, 'other')]))).not.toBe(one);
  });
});
