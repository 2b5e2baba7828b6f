// networking.istio.io ServiceEntry, WorkloadEntry and WorkloadGroup: services and workloads
// outside Kubernetes.
import { arr, enumOf, int32, map, obj, port, str, strings, stringMap, uint32 } from '../schema/dsl.js';
import { WorkloadSelector, exportTo } from './common.js';

export const WorkloadEntrySpec = obj(
  'WorkloadEntrySpec',
  {
    address: str({ doc: 'IP address, DNS name or unix:// socket of the workload.' }),
    ports: map(port(), { doc: 'Port name to the workload port number.' }),
    labels: stringMap('Labels of the workload.'),
    network: str(),
    locality: str({ doc: 'region/zone/subzone.' }),
    weight: uint32({ doc: 'Load balancing weight.' }),
    serviceAccount: str({ doc: 'Identity of the workload.' }),
  },
  { doc: 'A workload outside Kubernetes.' },
);

const ServicePort = obj(
  'ServicePort',
  {
    number: port('Port number.'),
    protocol: str({ doc: 'HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP or TLS.' }),
    name: str({ doc: 'Label for the port.' }),
    targetPort: port('Port on the endpoints.'),
  },
  { required: ['number', 'name'] },
);

export const ServiceEntrySpec = obj(
  'ServiceEntrySpec',
  {
    hosts: strings('Hosts of the service.'),
    addresses: strings('Virtual IPs or CIDRs of the service.'),
    ports: arr(ServicePort),
    location: enumOf(['MESH_EXTERNAL', 'MESH_INTERNAL']),
    resolution: enumOf(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN']),
    endpoints: arr(WorkloadEntrySpec),
    workloadSelector: WorkloadSelector,
    exportTo,
    subjectAltNames: strings(),
  },
  {
    required: ['hosts'],
    oneOf: [['endpoints', 'workloadSelector']],
    checks: [
      (v, p, report) => {
        const s = v as { resolution?: string; endpoints?: unknown[]; workloadSelector?: unknown };
        if (s.resolution === 'STATIC' && !s.endpoints?.length && !s.workloadSelector)
          report(p, 'resolution STATIC needs endpoints (or a workloadSelector)', 'warning');
      },
    ],
    doc: 'Adds a service to the mesh registry.',
  },
);

const Probe = obj('ReadinessProbe', {
  initialDelaySeconds: int32({ min: 0 }),
  timeoutSeconds: int32({ min: 0 }),
  periodSeconds: int32({ min: 0 }),
  successThreshold: int32({ min: 0 }),
  failureThreshold: int32({ min: 0 }),
  httpGet: obj('HTTPHealthCheckConfig', {
    path: str(),
    port: port(),
    host: str(),
    scheme: str(),
    httpHeaders: arr(obj('HTTPHeader', { name: str(), value: str() })),
  }),
  tcpSocket: obj('TCPHealthCheckConfig', { host: str(), port: port() }),
  exec: obj('ExecHealthCheckConfig', { command: strings() }),
  grpc: obj('GrpcHealthCheckConfig', { port: port(), service: str() }),
});

export const WorkloadGroupSpec = obj(
  'WorkloadGroupSpec',
  {
    metadata: obj('WorkloadGroupObjectMeta', { labels: stringMap(), annotations: stringMap() }),
    template: WorkloadEntrySpec,
    probe: Probe,
  },
  { required: ['template'] },
);
