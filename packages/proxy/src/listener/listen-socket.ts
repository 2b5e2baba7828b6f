// A TCP socket bound when its listener is created and put to listen only when the listener serves,
// as Envoy's (bind at creation, listen() when its workers start): a port-0 listener has its port
// during the start, and meanwhile connections are refused (a bound socket that does not listen:
// the kernel answers RST). Node's `net.Server.listen` binds and listens in one call, so the socket
// is made with the TCP handle class of Node's `tcp_wrap` binding (still exposed through
// `process.binding`), which `net.Server.listen(handle)` accepts. Where that binding is missing,
// the listener binds when it starts serving, as before.
import net from 'node:net';

interface TcpHandle {
  bind(host: string, port: number, flags: number): number;
  bind6(host: string, port: number, flags: number): number;
  getsockname(out: { address?: string; port?: number }): number;
  close(): void;
}
interface TcpWrap {
  TCP: new (type: number) => TcpHandle;
  constants: { SERVER: number; UV_TCP_REUSEPORT?: number };
}

let tcpWrap: TcpWrap | null | undefined;
function binding(): TcpWrap | undefined {
  if (tcpWrap === undefined) {
    try {
      const b = (process as unknown as { binding(n: string): TcpWrap }).binding('tcp_wrap');
      tcpWrap = typeof b.TCP === 'function' && typeof b.constants?.SERVER === 'number' ? b : null;
    } catch {
      tcpWrap = null;
    }
  }
  return tcpWrap ?? undefined;
}

/** A bound, not yet listening TCP socket; `handle` goes to `net.Server.listen`. */
export interface BoundSocket {
  readonly handle: object;
  readonly address: { address: string; port: number };
  /** Releases the socket (when its listener never serves). */
  close(): void;
}

/**
 * Binds a TCP socket on host:port (SO_REUSEADDR as libuv always sets it, SO_REUSEPORT when asked)
 * without listening. Undefined where the binding is unavailable or the host is not an IP address.
 * Throws the bind error (libuv reports an address in use only at listen, as Envoy's does then).
 */
export function bindListenSocket(host: string, port: number, reusePort: boolean): BoundSocket | undefined {
  const b = binding();
  const family = net.isIP(host);
  if (!b || family === 0) return undefined;
  if (reusePort && b.constants.UV_TCP_REUSEPORT === undefined) return undefined;
  const handle = new b.TCP(b.constants.SERVER);
  const flags = reusePort ? (b.constants.UV_TCP_REUSEPORT ?? 0) : 0;
  const err = family === 6 ? handle.bind6(host, port, flags) : handle.bind(host, port, flags);
  const out: { address?: string; port?: number } = {};
  const nameErr = err === 0 ? handle.getsockname(out) : err;
  if (nameErr !== 0) {
    handle.close();
    // node:util only on this path: importing it loads worker_threads and more (cli-flags.ts).
    const code = process.getBuiltinModule('node:util').getSystemErrorName(nameErr);
    throw Object.assign(new Error(`bind ${code}: ${host}:${port}`), { code });
  }
  let open = true;
  return {
    handle,
    address: { address: out.address ?? host, port: out.port ?? port },
    close: () => {
      if (open) handle.close();
      open = false;
    },
  };
}
