// Protocol of a service port, as Istio decides it: an explicit protocol field (ServiceEntry,
// Sidecar), Kubernetes appProtocol, or the port name's prefix (`http`, `grpc-web`, `tcp-db`...).

export type Protocol =
  'HTTP' | 'HTTP2' | 'GRPC' | 'TCP' | 'TLS' | 'HTTPS' | 'MONGO' | 'REDIS' | 'MYSQL' | 'UNKNOWN';

const KNOWN: Readonly<Record<string, Protocol>> = {
  http: 'HTTP',
  http2: 'HTTP2',
  h2c: 'HTTP2',
  grpc: 'GRPC',
  'grpc-web': 'GRPC',
  tcp: 'TCP',
  tls: 'TLS',
  https: 'HTTPS',
  mongo: 'MONGO',
  redis: 'REDIS',
  mysql: 'MYSQL',
};

function parse(value: string | undefined): Protocol | undefined {
  if (!value) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'grpc-web') return 'GRPC';
  const prefix = lower.split('-')[0] ?? '';
  return KNOWN[lower] ?? KNOWN[prefix];
}

/** The protocol of a port; UNKNOWN means "detect by sniffing". */
export function protocolOf(port: {
  readonly protocol?: string | undefined;
  readonly appProtocol?: string | undefined;
  readonly name?: string | undefined;
}): Protocol {
  return parse(port.protocol) ?? parse(port.appProtocol) ?? parse(port.name) ?? 'UNKNOWN';
}

/** HTTP-family protocols get an HTTP connection manager and routes. */
export function isHttp(p: Protocol): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC';
}

/** Protocols whose upstream connections speak HTTP/2. */
export function isHttp2(p: Protocol): boolean {
  return p === 'HTTP2' || p === 'GRPC';
}
