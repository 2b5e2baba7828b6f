// networking.istio.io Gateway: a load balancer at the edge of the mesh.
import { arr, bool, enumOf, obj, port, str, strings, stringMap, type Check } from '../schema/dsl.js';
import { tlsVersion } from './common.js';

export const GatewayPort = obj(
  'Port',
  {
    number: port('Port number.'),
    protocol: str({ doc: 'HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, MONGO, TCP or TLS.' }),
    name: str({ doc: 'Label for the port.' }),
    targetPort: port('Port on the workload (deprecated in Istio).'),
  },
  { required: ['number', 'protocol'] },
);

const checkServerTls: Check = (value, path, report) => {
  const v = value as Record<string, unknown>;
  const hasCreds =
    Boolean(v.credentialName) || (Array.isArray(v.credentialNames) && v.credentialNames.length > 0);
  if ((v.mode === 'SIMPLE' || v.mode === 'MUTUAL' || v.mode === 'OPTIONAL_MUTUAL') && !hasCreds) {
    if (!v.serverCertificate || !v.privateKey)
      report(path, `TLS mode ${String(v.mode)} needs credentialName, or serverCertificate and privateKey`);
    if (v.mode !== 'SIMPLE' && !v.caCertificates)
      report(path, `TLS mode ${String(v.mode)} needs caCertificates to verify clients`);
  }
};

export const ServerTLSSettings = obj(
  'ServerTLSSettings',
  {
    httpsRedirect: bool('Redirect plain HTTP to HTTPS.'),
    mode: enumOf(['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL']),
    serverCertificate: str(),
    privateKey: str(),
    caCertificates: str(),
    caCrl: str(),
    credentialName: str({ doc: 'Secret holding the certificate and key.' }),
    credentialNames: strings(),
    subjectAltNames: strings(),
    verifyCertificateSpki: strings(),
    verifyCertificateHash: strings(),
    minProtocolVersion: tlsVersion('Minimum TLS version.'),
    maxProtocolVersion: tlsVersion('Maximum TLS version.'),
    cipherSuites: strings(),
  },
  { checks: [checkServerTls] },
);

const Server = obj(
  'Server',
  {
    port: GatewayPort,
    bind: str({ doc: 'Address to bind to.' }),
    hosts: strings('Hosts exposed by this server, optionally "namespace/host".'),
    tls: ServerTLSSettings,
    defaultEndpoint: str(),
    name: str(),
  },
  { required: ['port', 'hosts'] },
);

export const GatewaySpec = obj(
  'GatewaySpec',
  {
    servers: arr(Server, {
      checks: [
        (v, p, r) => Array.isArray(v) && v.length === 0 && r(p, 'a gateway needs at least one server'),
      ],
    }),
    selector: stringMap('Labels of the gateway workloads this configuration applies to.'),
  },
  { required: ['servers'], doc: 'Ports, protocols and hosts exposed at the edge.' },
);
