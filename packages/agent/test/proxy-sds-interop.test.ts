// The agent's SDS server feeding the real skein-proxy: a bootstrap (from buildBootstrap) with a
// static listener terminating mesh mTLS with the SDS `default` certificate and `ROOTCA`
// (@skein/ca's meshDownstreamTlsContext); a mesh client connects, sees the workload identity,
// and after a rotation sees the new certificate. Needs the built proxy.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  istioMutualUpstreamTlsContext,
  meshDownstreamTlsContext,
  meshSni,
  UPSTREAM_TLS_TYPE,
  type CertificateAuthority,
  type RunningCa,
} from '@skein/ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBootstrap } from '../src/bootstrap/build-bootstrap.js';
import { eventually, meshCredentials, meshGet } from './support/mesh-client.js';
import { mtlsInboundBootstrap } from './support/mtls-inbound-bootstrap.js';
import { freePort, repoRoot, startSkeinProxy, type ProxyProcess } from './support/processes.js';
import { startTestCa, startWorkloadSds, type WorkloadSds } from './support/test-ca.js';
import { startSdsServer } from '../src/sds/sds-server.js';
import { WorkloadCertificate } from '../src/sds/workload-certificate.js';

const built = existsSync(join(repoRoot, 'packages/proxy/dist/main.js'));
const ID = 'spiffe://cluster.local/ns/shop/sa/db';

describe.skipIf(!built)(
  `real skein-proxy reading certificates from the agent over SDS${built ? '' : ' (proxy not built)'}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-sdsproxy-'));
    let ca: RunningCa;
    let core: CertificateAuthority;
    let workload: WorkloadSds;
    let cert: WorkloadCertificate;
    let proxy: ProxyProcess;
    let port: number;

    beforeAll(async () => {
      ({ core, ca } = await startTestCa('t shop db\n'));
      const sdsSocket = join(dir, 'sds.sock');
      workload = await startWorkloadSds({ ca, token: 't', ttlSeconds: 3600, socketPath: sdsSocket });
      cert = workload.cert;
      port = await freePort();
      const b = await mtlsInboundBootstrap({ dir, sdsSocket, port, tlsContext: meshDownstreamTlsContext() });
      const file = join(dir, 'bootstrap.json');
      writeFileSync(file, JSON.stringify(b));
      proxy = startSkeinProxy(file);
    }, 60_000);

    afterAll(async () => {
      await proxy?.stop();
      await workload?.stop();
      await ca?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const logs = () => proxy.stderr();

    it('terminates mesh mTLS with the SDS certificate and follows a rotation', async () => {
      const c = await meshCredentials(core, 'spiffe://cluster.local/ns/shop/sa/web');
      const first = await eventually(
        () => meshGet(port, c),
        (r) => r.body === 'hello from db',
        logs,
      );
      expect(first.san).toBe(`URI:${ID}`);
      expect(first.serial).toBe(new X509Certificate(cert.secret!.certChainPem).serialNumber);
      await cert.refresh();
      const rotated = new X509Certificate(cert.secret!.certChainPem).serialNumber;
      const second = await eventually(
        () => meshGet(port, c),
        (r) => r.serial === rotated,
        logs,
      );
      expect(second.body).toBe('hello from db');
    }, 60_000);

    it('carries plaintext from a client skein-proxy to the server over ISTIO_MUTUAL; refuses plaintext and wrong identities', async () => {
      // The client sidecar: its own workload certificate over its own SDS socket.
      const webCert = new WorkloadCertificate({
        signer: {
          sign: (csr, ttl) =>
            core.signWorkloadCsr(csr, 'spiffe://cluster.local/ns/shop/sa/web', ttl).then((r) => r.certChain),
        },
        ttlSeconds: 3600,
      });
      await webCert.start();
      const webSds = await startSdsServer({ socketPath: join(dir, 'web-sds.sock'), certificate: webCert });
      const outGood = await freePort();
      const outBad = await freePort();
      const b = buildBootstrap({
        podName: 'web-0',
        namespace: 'shop',
        podIp: '127.0.0.1',
        serviceAccount: 'web',
        discovery: { unixSocket: join(dir, 'unused-xds.sock') },
        sdsSocket: join(dir, 'web-sds.sock'),
        admin: { address: '127.0.0.1', port: await freePort() },
        statsPort: null,
        readinessPort: null,
      });
      delete b.dynamicResources;
      const upstream = (name: string, sans: string[]) => ({
        name,
        type: 'STATIC',
        connectTimeout: '2s',
        loadAssignment: {
          clusterName: name,
          endpoints: [
            {
              lbEndpoints: [
                { endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } } },
              ],
            },
          ],
        },
        transportSocket: {
          name: 'envoy.transport_sockets.tls',
          typedConfig: {
            '@type': UPSTREAM_TLS_TYPE,
            ...istioMutualUpstreamTlsContext({
              sni: meshSni(8080, '', 'db.shop.svc.cluster.local'),
              subjectAltNames: sans,
              alpn: ['http/1.1'],
            }),
          },
        },
      });
      const outbound = (name: string, listenPort: number, cluster: string) => ({
        name,
        address: { socketAddress: { address: '127.0.0.1', portValue: listenPort } },
        filterChains: [
          {
            filters: [
              {
                name: 'envoy.filters.network.http_connection_manager',
                typedConfig: {
                  '@type':
                    'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                  statPrefix: name,
                  routeConfig: {
                    virtualHosts: [
                      {
                        name: 'all',
                        domains: ['*'],
                        routes: [{ match: { prefix: '/' }, route: { cluster } }],
                      },
                    ],
                  },
                  httpFilters: [
                    {
                      name: 'envoy.filters.http.router',
                      typedConfig: {
                        '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                      },
                    },
                  ],
                },
              },
            ],
          },
        ],
      });
      b.staticResources!.clusters = [
        ...b.staticResources!.clusters!.filter((c) => c.name !== 'xds-grpc'),
        upstream('db-good', [ID]) as never,
        upstream('db-bad', ['spiffe://cluster.local/ns/shop/sa/impostor']) as never,
      ];
      b.staticResources!.listeners = [
        outbound('out-good', outGood, 'db-good') as never,
        outbound('out-bad', outBad, 'db-bad') as never,
      ];
      const file = join(dir, 'web-bootstrap.json');
      writeFileSync(file, JSON.stringify(b));
      const webProxy = startSkeinProxy(file);
      const bothLogs = () => `${proxy.stderr()}\n--- client proxy ---\n${webProxy.stderr()}`;
      try {
        const plainGet = async (p: number) => {
          const r = await fetch(`http://127.0.0.1:${p}/`, { signal: AbortSignal.timeout(5000) });
          return { status: r.status, body: await r.text() };
        };
        const good = await eventually(
          () => plainGet(outGood),
          (r) => r.status === 200,
          bothLogs,
        );
        expect(good.body).toBe('hello from db');
        // The server presents spiffe://.../sa/db, not the identity this cluster expects.
        const bad = await eventually(
          () => plainGet(outBad),
          (r) => r.status >= 500,
          bothLogs,
        );
        expect(bad.status).toBe(503);
        // The server's listener has only the mTLS chain (STRICT): plaintext gets no response.
        await expect(
          fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) }),
        ).rejects.toThrow();
      } finally {
        await webProxy.stop();
        webCert.stop();
        await webSds.close();
      }
    }, 60_000);
  },
);
