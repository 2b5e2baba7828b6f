// Mesh security end to end: skeind with its embedded CA (directory mode, bootstrap tokens), two
// sidecars (skein-agent in-process supervising the real skein-proxy binary) that get their
// certificates from skeind's TLS port and their xDS over it too. Proves: sidecar-to-sidecar
// requests are mutual TLS with the client's SPIFFE identity, STRICT refuses plaintext, and an
// AuthorizationPolicy DENY answers 403.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { discoveryV3, TypeUrl } from '@skein/api-types';
import { runAgent, type RunningAgent } from '@skein/agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type RunningControlPlane } from '../src/control-plane.js';
import { testConfigDir } from './support/config-dir.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const built = ['packages/proxy/dist/main.js'].filter((f) => !existsSync(join(root, f)));

const NS = 'demo';
const HOST = `web.${NS}.svc.cluster.local`;
const PORT = 9080;
const APP_PORT = 8080;
// A loopback /24 of our own, so parallel runs (and the demo) never share addresses.
const base = `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}`;
const serverIp = `${base}.11`;
const clientIp = `${base}.20`;

const sidecar = (name: string, ip: string, labels: Record<string, string>, ingress: boolean): string =>
  [
    'apiVersion: networking.istio.io/v1',
    'kind: Sidecar',
    `metadata: { name: ${name}, namespace: ${NS} }`,
    'spec:',
    `  workloadSelector: { labels: { app: ${labels['app']} } }`,
    ...(ingress
      ? [
          '  ingress:',
          `    - port: { number: ${PORT}, protocol: HTTP, name: http }`,
          `      bind: ${ip}`,
          '      captureMode: NONE',
          `      defaultEndpoint: 0.0.0.0:${APP_PORT}`,
        ]
      : []),
    '  egress:',
    `    - port: { number: ${PORT}, protocol: HTTP, name: http }`,
    `      bind: ${ip}`,
    '      captureMode: NONE',
    `      hosts: [./${HOST}]`,
  ].join('\n');

const MESH = [
  [
    'apiVersion: networking.istio.io/v1',
    'kind: ServiceEntry',
    `metadata: { name: web, namespace: ${NS} }`,
    'spec:',
    `  hosts: [${HOST}]`,
    `  ports: [{ number: ${PORT}, name: http, protocol: HTTP }]`,
    '  location: MESH_INTERNAL',
    '  resolution: STATIC',
    '  workloadSelector: { labels: { app: web } }',
  ].join('\n'),
  [
    'apiVersion: networking.istio.io/v1',
    'kind: WorkloadEntry',
    `metadata: { name: web, namespace: ${NS} }`,
    'spec:',
    `  address: ${serverIp}`,
    '  serviceAccount: web',
    '  labels: { app: web, security.istio.io/tlsMode: istio }',
    `  ports: { http: ${PORT} }`,
  ].join('\n'),
  sidecar('web', serverIp, { app: 'web' }, true),
  sidecar('client', clientIp, { app: 'client' }, false),
].join('\n---\n');

const STRICT = [
  'apiVersion: security.istio.io/v1',
  'kind: PeerAuthentication',
  `metadata: { name: default, namespace: ${NS} }`,
  'spec: { mtls: { mode: STRICT } }',
].join('\n');

const DENY_ADMIN = [
  'apiVersion: security.istio.io/v1',
  'kind: AuthorizationPolicy',
  `metadata: { name: deny-admin, namespace: ${NS} }`,
  'spec:',
  '  selector: { matchLabels: { app: web } }',
  '  action: DENY',
  '  rules:',
  `    - from: [{ source: { principals: [cluster.local/ns/${NS}/sa/client] } }]`,
  '      to: [{ operation: { paths: [/admin*] } }]',
].join('\n');

/** Polls `check` until it holds (the condition is the synchronisation, not the delay). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A plain HTTP GET to `ip:port` with Host set to the service: the status, or 0 if the connection failed. */
function get(ip: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: ip, port: PORT, path, headers: { host: HOST }, agent: false, timeout: 5000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

describe.skipIf(built.length > 0)(
  `skeind with its CA: mTLS between sidecars${built.length ? ` (not built: ${built.join(', ')})` : ''}`,
  () => {
    const { dir, configDir, write, remove } = testConfigDir('skeind-mtls-');
    let cp: RunningControlPlane;
    let app: Server;
    const agents: RunningAgent[] = [];
    const logs: string[] = [];

    const serverMetrics = async (): Promise<string> =>
      (await fetch(`http://${serverIp}:15000/stats/prometheus`)).text();

    beforeAll(async () => {
      write('mesh.yaml', MESH);
      writeFileSync(join(dir, 'tokens'), `tok-web ${NS} web\ntok-client ${NS} client\n`);
      app = createServer((_req, res) => res.end('hello from web\n'));
      await new Promise<void>((r) => app.listen(APP_PORT, serverIp, r));
      cp = await startControlPlane({
        configDir,
        xdsAddr: '127.0.0.1:0',
        httpAddr: '127.0.0.1:0',
        settleMs: 20,
        debounceMs: 20,
        logLevel: process.env['DEBUG_MTLS'] ? 'info' : 'none',
        ca: { dir: join(dir, 'ca'), tokensFile: join(dir, 'tokens'), secureAddr: '127.0.0.1:0' },
      });
      const ca = cp.ca!;
      for (const [name, ip, sa] of [
        ['web', serverIp, 'web'],
        ['client', clientIp, 'client'],
      ] as const) {
        const agent = await runAgent({
          bootstrap: {
            podName: name,
            namespace: NS,
            podIp: ip,
            serviceAccount: sa,
            labels: { app: name },
            interceptionMode: 'NONE',
            discovery: { unixSocket: join(dir, `${name}.xds`) },
            sdsSocket: join(dir, `${name}.sds`),
            admin: { address: ip, port: 15000 },
            listenAddress: ip,
            statsPort: null,
            readinessPort: null,
            agent: { address: ip, port: 15020 },
          },
          bootstrapPath: join(dir, `${name}.json`),
          proxyCommand: join(root, 'bin/skein-proxy'),
          proxyArgs: process.env['DEBUG_MTLS'] ? ['--log-level', 'debug'] : [],
          // The certificate and the xDS stream both come from skeind's TLS port.
          ca: { address: ca.address, rootCertPem: ca.rootCertPem, token: `tok-${name}`, ttlSeconds: 3600 },
          xdsRelay: { socketPath: join(dir, `${name}.xds`), upstream: ca.address, tls: true },
          status: { host: ip, port: 15020 },
          drainDurationMs: 1000,
          exitOnZeroActiveConnections: true,
          log: (m, f) => logs.push(`${name}: ${m} ${JSON.stringify(f ?? {})}`),
        });
        agents.push(agent);
      }
      for (const ip of [serverIp, clientIp])
        // Generous: on a loaded shared machine two proxy processes can take a while to start.
        await until(
          `sidecar ${ip} ready`,
          async () => (await fetch(`http://${ip}:15020/healthz/ready`)).ok,
          60_000,
        );
    }, 150_000);

    afterAll(async () => {
      for (const a of agents) {
        await a.terminate();
        await a.done;
      }
      await cp?.stop();
      await new Promise((r) => app?.close(r));
      remove();
    });

    it('persists the root in --ca-dir and serves it', () => {
      const rootPem = readFileSync(cp.ca!.rootCertFile!, 'utf8');
      expect(rootPem).toBe(cp.ca!.rootCertPem);
    });

    it('sidecar to sidecar is mutual TLS carrying the client identity', async () => {
      await until('a request through both sidecars', async () => (await get(clientIp, '/')) === 200);
      const m = await serverMetrics();
      const inbound = m
        .split('\n')
        .filter((l) => l.startsWith('istio_requests_total{') && l.includes('reporter="destination"'));
      expect(inbound.length, m).toBeGreaterThan(0);
      for (const l of inbound) {
        expect(l).toContain('connection_security_policy="mutual_tls"');
        expect(l).toContain(`source_principal="spiffe://cluster.local/ns/${NS}/sa/client"`);
      }
    });

    it('PERMISSIVE (the default) still accepts plaintext; STRICT refuses it', async () => {
      expect(await get(serverIp, '/')).toBe(200);
      write('strict.yaml', STRICT);
      await until('STRICT to refuse plaintext', async () => (await get(serverIp, '/')) === 0);
      // The refusal is the TLS-only chain: a raw plaintext request is closed without an HTTP answer.
      const answer = await new Promise<string>((resolve) => {
        const s = connect(PORT, serverIp, () => s.write(`GET / HTTP/1.1\r\nhost: ${HOST}\r\n\r\n`));
        let got = '';
        s.on('data', (d: Buffer) => (got += d.toString()));
        s.on('close', () => resolve(got));
        s.on('error', () => resolve(got));
      });
      expect(answer).not.toContain('HTTP/1.1 200');
      expect(await get(clientIp, '/')).toBe(200);
    });

    it('an AuthorizationPolicy DENY answers 403 for the matching requests only', async () => {
      write('deny.yaml', DENY_ADMIN);
      await until('the DENY policy', async () => (await get(clientIp, '/admin/users')) === 403);
      expect(await get(clientIp, '/')).toBe(200);
    });

    /** Opens an ADS stream on skeind's TLS port, sends one request, resolves with the call's status. */
    async function adsCall(token: string | undefined, request: Uint8Array): Promise<grpc.StatusObject> {
      const ca = cp.ca!;
      const client = new grpc.Client(ca.address, grpc.credentials.createSsl(Buffer.from(ca.rootCertPem)));
      const md = new grpc.Metadata();
      if (token) md.set('authorization', `Bearer ${token}`);
      const stream = client.makeBidiStreamRequest(
        '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => b,
        md,
      );
      const status = await new Promise<grpc.StatusObject>((resolve) => {
        stream.on('status', resolve);
        stream.on('error', () => undefined);
        stream.on('data', () => undefined);
        stream.write(request);
      });
      client.close();
      return status;
    }
    const clusters = (sa: string): Uint8Array =>
      toBinary(
        discoveryV3.DiscoveryRequestSchema,
        create(discoveryV3.DiscoveryRequestSchema, {
          typeUrl: TypeUrl.Cluster,
          node: {
            id: `sidecar~${clientIp}~probe.${NS}~${NS}.svc.cluster.local`,
            metadata: { NAMESPACE: NS, SERVICE_ACCOUNT: sa },
          },
        }),
      );

    it('refuses xDS over TLS without credentials, or from a proxy claiming another identity', async () => {
      expect((await adsCall(undefined, clusters('client'))).code).toBe(grpc.status.UNAUTHENTICATED);
      expect((await adsCall('no-such-token', clusters('client'))).code).toBe(grpc.status.UNAUTHENTICATED);
      // The web workload's token, a node claiming the client's service account.
      const denied = await adsCall('tok-web', clusters('client'));
      expect(denied.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(denied.details).toContain(`authenticated as spiffe://cluster.local/ns/${NS}/sa/web`);
    });
  },
);
