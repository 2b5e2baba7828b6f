// Envoy core Address (socket_address or pipe) to something node:net can bind or connect to.
import type { coreAddressV3 } from '@skein/api-types';

export type NetAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'pipe'; path: string };

/** The bindable/connectable form of an Envoy Address; throws naming what is missing. */
export function toNetAddress(a: coreAddressV3.AddressJson | undefined, what: string): NetAddress {
  if (a?.pipe?.path) return { kind: 'pipe', path: a.pipe.path };
  const sa = a?.socketAddress;
  if (!sa) throw new Error(`${what}: address needs socket_address or pipe`);
  if (sa.namedPort) throw new Error(`${what}: socket_address.named_port is not supported`);
  if (sa.protocol === 'UDP') throw new Error(`${what}: UDP is not supported`);
  return { kind: 'tcp', host: sa.address ?? '0.0.0.0', port: sa.portValue ?? 0 };
}

export function formatNetAddress(a: NetAddress): string {
  if (a.kind === 'pipe') return a.path;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
