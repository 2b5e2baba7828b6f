// Gateway AUTO_PASSTHROUGH and per-server bind through a real skein-proxy gateway: a client
// opening TLS with Istio's mesh SNI `outbound_.<port>_.<subset>_.<host>` to the gateway's bound
// address reaches the endpoint of that subset with its ClientHello untouched (the gateway does
// not terminate TLS); another subset's SNI reaches the other endpoint.
import { createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackMesh, type LoopbackMesh } from './support/loopback-mesh.js';
import { loopbackBase, proxyBuilt, until } from './support/sidecar-proxy.js';
import { testConfigDir } from './support/config-dir.js';

const HOST = 'reviews.bookinfo.svc.cluster.local';
const PORT = 9443;
const GW_PORT = 15443;
const base = loopbackBase();
const gatewayIp = `${base}.2`;
const v1Ip = `${base}.11`;
const v2Ip = `${base}.12`;

const CONFIG = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews, namespace: bookinfo }
spec:
  hosts: [${HOST}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: ${PORT}, name: tls, protocol: TLS }]
  endpoints:
  - { address: ${v1Ip}, labels: { version: v1 } }
  - { address: ${v2Ip}, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: bookinfo }
spec:
  host: ${HOST}
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: eastwest, namespace: istio-system }
spec:
  selector: { istio: eastwestgateway }
  servers:
  - port: { number: ${GW_PORT}, name: tls, protocol: TLS }
    bind: ${gatewayIp}
    hosts: ["*.local"]
    tls: { mode: AUTO_PASSTHROUGH }
`;

/** A backend that records the first bytes of each connection and answers with its name. */
function backend(ip: string, name: string, seen: Buffer[]): Promise<Server> {
  const server = createServer((s: Socket) => {
    s.on('error', () => s.destroy());
    s.once('data', (d: Buffer) => {
      seen.push(d);
      s.end(`${name}\n`);
    });
  });
  return new Promise((r) => server.listen(PORT, ip, () => r(server)));
}

/**
 * Starts a TLS handshake with `sni` through the gateway; resolves when the connection ends (the
 * backends are not TLS servers, so the handshake itself always fails: what counts is which
 * backend saw the ClientHello).
 */
function hello(sni: string): Promise<void> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: gatewayIp, port: GW_PORT, servername: sni, rejectUnauthorized: false });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
  });
}

describe.skipIf(!proxyBuilt)(
  `gateway AUTO_PASSTHROUGH through a real proxy${proxyBuilt ? '' : ' (skein-proxy not built: run the build first)'}`,
  () => {
    const { dir, configDir, write, remove } = testConfigDir('skeind-gw-');
    let mesh: LoopbackMesh | undefined;
    const servers: Server[] = [];
    const seen: Record<string, Buffer[]> = { v1: [], v2: [] };

    beforeAll(async () => {
      write('mesh.yaml', CONFIG);
      servers.push(await backend(v1Ip, 'v1', seen['v1'] ?? []), await backend(v2Ip, 'v2', seen['v2'] ?? []));
      mesh = await startLoopbackMesh({
        configDir,
        dir,
        namespace: 'istio-system',
        pods: [],
        routers: [{ name: 'eastwestgateway', ip: gatewayIp, labels: { istio: 'eastwestgateway' } }],
      });
    }, 150_000);

    afterAll(async () => {
      await mesh?.stop();
      for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
      remove();
    });

    it('the mesh SNI of subset v2 reaches v2 with the ClientHello intact, v1 reaches v1', async () => {
      await until('v2 reached through the gateway', async () => {
        await hello(`outbound_.${PORT}_.v2_.${HOST}`);
        return (seen['v2']?.length ?? 0) > 0;
      });
      const v2 = seen['v2']?.at(-1);
      expect(v2?.[0]).toBe(0x16); // a TLS handshake record: not terminated at the gateway
      expect(v2?.includes(Buffer.from(`outbound_.${PORT}_.v2_.${HOST}`))).toBe(true);
      const before = seen['v1']?.length ?? 0;
      await hello(`outbound_.${PORT}_.v1_.${HOST}`);
      await until('v1 reached', async () => (seen['v1']?.length ?? 0) > before);
      expect(seen['v1']?.at(-1)?.includes(Buffer.from(`outbound_.${PORT}_.v1_.${HOST}`))).toBe(true);
    });

    it('an SNI the gateway does not expose reaches no backend', async () => {
      const counts = [seen['v1']?.length, seen['v2']?.length];
      await hello('unknown.example.com');
      expect([seen['v1']?.length, seen['v2']?.length]).toEqual(counts);
    });
  },
);
