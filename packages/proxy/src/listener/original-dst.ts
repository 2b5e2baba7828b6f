// SO_ORIGINAL_DST recovery for use_original_dst listeners: the destination a connection had
// before an iptables REDIRECT, read from the socket by the small Node-API addon in native/
// (built by scripts/build-native.mjs). Without the addon the resolver reports nothing and
// connections keep their local address as destination.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import type net from 'node:net';
import type { OriginalDstResolver } from './active-listener.js';

interface Addon {
  getOriginalDst(fd: number): { address: string; port: number } | undefined;
}

function loadAddon(): Addon | undefined {
  const require = createRequire(import.meta.url);
  // From dist/listener/ the addon is ../native; from src/listener/ (tests) it is ../../dist/native.
  for (const rel of ['../native/original-dst.node', '../../dist/native/original-dst.node']) {
    const p = new URL(rel, import.meta.url).pathname;
    if (existsSync(p)) return require(p) as Addon;
  }
  return undefined;
}

let addon: Addon | undefined | null = null;

/** The native resolver, or undefined when the addon was not built on this machine. */
export function nativeOriginalDst(): OriginalDstResolver | undefined {
  if (addon === null) addon = loadAddon();
  const a = addon;
  if (!a) return undefined;
  return (socket: net.Socket) => {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (fd === undefined || fd < 0) return undefined;
    const dst = a.getOriginalDst(fd);
    if (!dst) return undefined;
    // REDIRECT to a local port reports the original address; an unredirected socket reports itself.
    return { address: dst.address.replace(/^::ffff:/, ''), port: dst.port };
  };
}
