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
  /** IP_TRANSPARENT (and IPV6_TRANSPARENT) on a socket: undefined, or why it failed. */
  setTransparent?(fd: number): string | undefined;
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

/**
 * Makes a bound listening socket transparent (IP_TRANSPARENT), so iptables TPROXY can hand it
 * connections for any destination; their local address is then the original destination. Node
 * has no socket option for it and creates, binds and listens in one call, so it is set on the
 * listening socket afterwards through the addon (the kernel checks it when TPROXY looks the
 * socket up, not at bind). Returns undefined on success, else why not (no addon, no
 * CAP_NET_ADMIN).
 */
export function makeTransparent(server: net.Server): string | undefined {
  if (addon === null) addon = loadAddon();
  if (!addon?.setTransparent) return 'the native addon (dist/native/original-dst.node) is not built';
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) return 'the listening socket has no file descriptor';
  return addon.setTransparent(fd);
}
