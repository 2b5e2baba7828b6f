// The rotation proof: workload certificates with a 30 s TTL rotate while a connection
// pool keeps serving, with zero failed requests. skeind with its embedded CA (its default 60 s
// clock-skew backdating included), two sidecars (skein-agent in process supervising the real
// skein-proxy; certificates and xDS from skeind's TLS port), auto mTLS between them. Pooled
// keep-alive clients and fresh connections send requests through the client sidecar until each
// workload has had two new certificates and the first ones have expired.
import { Agent, createServer } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { listening, useLoopbackMesh } from './support/mesh-fixture.js';
import { loopbackBase, proxyBuilt, until } from './support/sidecar-proxy.js';
import { httpStatus } from './support/traffic.js';
import { hostOf, twoPodsYaml, type TwoPods } from './support/two-pods.js';

const TTL_SECONDS = 30;
const base = loopbackBase();
// STRICT: the server sidecar accepts only mutual TLS, so every request below is mTLS.
const PODS: TwoPods = {
  namespace: 'demo',
  name: 'web',
  port: { number: 9080, name: 'http', protocol: 'HTTP' },
  appPort: 8080,
  serverIp: `${base}.11`,
  clientIp: `${base}.20`,
  injected: true,
  strict: true,
};

/** One GET through the client sidecar: resolves with the status, or an error message. */
const get = (agent: Agent | false): Promise<number | string> =>
  httpStatus({ ip: PODS.clientIp, port: PODS.port.number, host: hostOf(PODS) }, '/', { agent }).catch(
    (e: Error) => e.message,
  );

describe.skipIf(!proxyBuilt)(
  `30 s workload certificates rotating under load${proxyBuilt ? '' : ' (skein-proxy not built: run the build first)'}`,
  () => {
    /** Per workload: the certificates issued (version, notAfter). */
    const issued = new Map<string, { version: number; notAfter: number }[]>([
      ['web', []],
      ['client', []],
    ]);
    const listeners = new Set<() => void>();

    useLoopbackMesh('skeind-rotation-', {
      before: async ({ write }) => {
        write('mesh.yaml', twoPodsYaml(PODS));
        return [
          await listening(
            createServer((_req, res) => res.end('hello from web\n')),
            PODS.serverIp,
            PODS.appPort,
          ),
        ];
      },
      // Certificates and xDS from skeind's TLS port, auto mTLS between the sidecars.
      mesh: {
        namespace: PODS.namespace,
        mtls: true,
        xdsOverTls: true,
        certTtlSeconds: TTL_SECONDS,
        pods: [
          ['web', PODS.serverIp],
          ['client', PODS.clientIp],
        ],
        onAgentLog: (pod, m, f) => {
          if (m !== 'certificate issued') return;
          issued
            .get(pod)
            ?.push({ version: Number(f?.['version']), notAfter: Date.parse(String(f?.['notAfter'])) });
          listeners.forEach((l) => l());
        },
      },
    });

    beforeAll(async () => {
      // Two sidecars with their agents start and fetch certificates: under a loaded CI machine this
      // took over 30 s once, so the bound is generous.
      await until('the client sidecar reaching the server', async () => (await get(false)) === 200, 90_000);
    }, 120_000);

    it('serves every request while both workloads rotate twice and their first certificates expire', async () => {
      // Done when both workloads hold their third certificate and the first ones have expired.
      const firstExpiry = Math.max(...[...issued.values()].map((l) => l[0]!.notAfter));
      const rotated = new Promise<void>((resolve) => {
        const check = () => {
          if ([...issued.values()].every((l) => l.length >= 3)) resolve();
        };
        listeners.add(check);
        check();
      });
      const done = rotated.then(
        () => new Promise<void>((r) => setTimeout(r, Math.max(0, firstExpiry + 1000 - Date.now()))),
      );
      let stop = false;
      void done.then(() => (stop = true));

      const pool = new Agent({ keepAlive: true, maxSockets: 4 });
      const results = { ok: 0, fresh: 0, failures: [] as string[] };
      const worker = async (agent: Agent | false) => {
        while (!stop) {
          const r = await get(agent);
          if (r === 200) {
            results.ok++;
            if (agent === false) results.fresh++;
          } else results.failures.push(`${new Date().toISOString()} ${String(r)}`);
          await new Promise((res) => setTimeout(res, 5));
        }
      };
      await Promise.all([worker(pool), worker(pool), worker(pool), worker(false)]);
      pool.destroy();

      expect(results.failures).toEqual([]);
      expect(results.ok).toBeGreaterThan(500);
      expect(results.fresh).toBeGreaterThan(50);
      for (const [name, list] of issued) {
        expect(list.map((c) => c.version).slice(0, 3), name).toEqual([1, 2, 3]);
        // Each lived 30 s and was replaced at about half its life, not at once.
        expect(list[1]!.notAfter - list[0]!.notAfter, name).toBeGreaterThan(10_000);
      }
      expect(Date.now()).toBeGreaterThan(firstExpiry);
    }, 90_000);
  },
);
