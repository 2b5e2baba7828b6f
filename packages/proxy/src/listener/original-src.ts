// Envoy's original_src listener filter (Istio puts it on virtualInbound in TPROXY mode): the
// upstream connections opened for a downstream connection leave from the downstream client's own
// address, marked (SO_MARK, 1337 from Istio) so the capture rules route the app's replies back to
// the proxy. The socket comes from the Node-API addon native/transparent-socket.c
// (IP_TRANSPARENT, SO_MARK, bound to the client's address); Node connects it. Without the addon
// (no gcc at build time) or without CAP_NET_ADMIN, connections leave from the proxy's own address
// and the listener says so once.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import type { listenerV3 } from '@skein/api-types';

/** Where a downstream connection's upstream connections leave from. */
export interface OriginalSource {
  address: string;
  mark: number;
}

interface Addon {
  transparentSocket(address: string, mark: number): number | string;
}

let addon: Addon | undefined | null = null;

function loadAddon(): Addon | undefined {
  const require = createRequire(import.meta.url);
  // From dist/listener/ the addon is ../native; from src/listener/ (tests) it is ../../dist/native.
  for (const rel of ['../native/transparent-socket.node', '../../dist/native/transparent-socket.node']) {
    const p = new URL(rel, import.meta.url).pathname;
    if (existsSync(p)) return require(p) as Addon;
  }
  return undefined;
}

const NAMES = new Set([
  'envoy.filters.listener.original_src',
  'type.googleapis.com/envoy.extensions.filters.listener.original_src.v3.OriginalSrc',
]);

/** The original_src filter's mark when a listener has the filter, else undefined. */
export function originalSrcMark(filters: listenerV3.ListenerJson['listenerFilters']): number | undefined {
  for (const f of filters ?? []) {
    const tc = f.typedConfig as { '@type'?: string; mark?: number } | undefined;
    if (NAMES.has(tc?.['@type'] ?? '') || NAMES.has(f.name ?? '')) return tc?.mark ?? 0;
  }
  return undefined;
}

/** Why upstream connections cannot keep the client's address here, or undefined when they can. */
export function originalSourceUnavailable(): string | undefined {
  if (addon === null) addon = loadAddon();
  return addon
    ? undefined
    : 'the native addon (dist/native/transparent-socket.node) is not built (gcc missing)';
}

/**
 * A connection to `host:port` from `source` (transparent, marked), or why not: the caller then
 * connects from its own address. The source and the destination must be of one address family.
 */
export function connectFromSource(
  source: OriginalSource,
  host: string,
  port: number,
  options: Pick<net.SocketConstructorOpts, 'onread'> = {},
): { socket: net.Socket } | { error: string } {
  if (addon === null) addon = loadAddon();
  if (!addon) return { error: originalSourceUnavailable()! };
  if (net.isIPv4(source.address) !== net.isIPv4(host))
    return { error: `source ${source.address} and destination ${host} differ in address family` };
  const fd = addon.transparentSocket(source.address, source.mark);
  if (typeof fd === 'string') return { error: fd };
  const socket = new net.Socket({ fd, ...options });
  socket.connect({ host, port });
  return { socket };
}
