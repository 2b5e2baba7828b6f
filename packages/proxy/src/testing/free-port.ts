// A free loopback port for tests whose listeners must be named up front (in a bootstrap or an xDS
// resource) before the process that binds them starts. The port is drawn at random below the
// kernel's ephemeral range, so nothing else on the machine is handed it meanwhile (connections'
// local ports and port-0 binds come from that range); a probe bind checks nobody holds it now.
import net from 'node:net';
import { readFile } from 'node:fs/promises';

const FALLBACK_EPHEMERAL_START = 32768;
const LOWEST = 10000;

async function ephemeralStart(): Promise<number> {
  try {
    const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    const first = Number(text.trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOWEST + 1000 ? first : FALLBACK_EPHEMERAL_START;
  } catch {
    return FALLBACK_EPHEMERAL_START;
  }
}

function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A loopback port nobody holds, outside the ephemeral range (falls back to one the OS picks). */
export async function freePort(): Promise<number> {
  const end = await ephemeralStart();
  for (let i = 0; i < 50; i++) {
    const port = LOWEST + Math.floor(Math.random() * (end - LOWEST));
    if (await probe(port)) return port;
  }
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
