// An HTTP upstream answering its name, whose /healthz answers are held until `release()`: a test
// decides when a cluster's first health-check round ends, so it waits on events, not on time.
import http from 'node:http';
import type net from 'node:net';

export interface HeldUpstream {
  port: number;
  /** Resolves when a health check is waiting for its answer. */
  firstCheck: Promise<void>;
  release(): void;
  close(): Promise<void>;
}

export async function startHeldUpstream(name: string): Promise<HeldUpstream> {
  const held: http.ServerResponse[] = [];
  let released = false;
  let checked: () => void = () => {};
  const firstCheck = new Promise<void>((r) => (checked = r));
  const server = http.createServer((req, res) => {
    if (req.url !== '/healthz') return void res.end(name);
    if (released) return void res.end();
    held.push(res);
    checked();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    firstCheck,
    release: () => {
      released = true;
      for (const res of held.splice(0)) res.end();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
