// networking.istio.io Sidecar: what a sidecar listens on and which hosts it can reach.
import { arr, enumOf, obj, port, str, strings } from '../schema/dsl.js';
import { Destination, WorkloadSelector } from './common.js';
import { ConnectionPoolSettings } from './destination-rule.js';
import { ServerTLSSettings } from './gateway.js';

const SidecarPort = obj(
  'SidecarPort',
  { number: port(), protocol: str(), name: str(), targetPort: port() },
  { required: ['number'] },
);

const captureMode = enumOf(['DEFAULT', 'IPTABLES', 'NONE'], {
  doc: 'How traffic reaches this listener; NONE binds to the explicit address and port.',
});

const IstioIngressListener = obj(
  'IstioIngressListener',
  {
    port: SidecarPort,
    bind: str({ doc: 'Address to bind to.' }),
    captureMode,
    defaultEndpoint: str({ doc: 'Where to forward: 127.0.0.1:PORT, 0.0.0.0:PORT or unix://path.' }),
    tls: ServerTLSSettings,
    connectionPool: ConnectionPoolSettings,
  },
  { required: ['port'] },
);

const IstioEgressListener = obj(
  'IstioEgressListener',
  {
    port: SidecarPort,
    bind: str({ doc: 'Address to bind to.' }),
    captureMode,
    hosts: strings('Reachable hosts as "namespace/dnsName" ("./" this namespace, "*/" any).'),
  },
  { required: ['hosts'] },
);

export const SidecarSpec = obj(
  'SidecarSpec',
  {
    workloadSelector: WorkloadSelector,
    ingress: arr(IstioIngressListener),
    egress: arr(IstioEgressListener),
    outboundTrafficPolicy: obj('OutboundTrafficPolicy', {
      mode: enumOf(['REGISTRY_ONLY', 'ALLOW_ANY']),
      egressProxy: Destination,
    }),
    inboundConnectionPool: ConnectionPoolSettings,
  },
  { doc: 'Scope and listeners of the sidecars it selects.' },
);
