// Mesh security end to end: skeind with its embedded CA (directory mode, bootstrap tokens), two
// sidecars (skein-agent in-process supervising the real skein-proxy binary) that get their
// certificates from skeind's TLS port and their xDS over it too. Proves: sidecar-to-sidecar
// requests are mutual TLS with the client's SPIFFE identity, STRICT refuses plaintext, and an
// AuthorizationPolicy DENY answers 403.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { create, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { discoveryV3, TypeUrl } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { listening, useLoopbackMesh } from './support/mesh-fixture.js';
import { loopbackBase, proxyBuilt, until, type Sidecar } from './support/sidecar-proxy.js';
import { httpStatus } from './support/traffic.js';
import { hostOf, twoPodsYaml, type TwoPods } from './support/two-pods.js';
import { openRawAdsStream } from './support/ads-client.js';

const NS = 'demo';
const base = loopbackBase();
const PODS: TwoPods = {
  namespace: NS,
  name: 'web',
  port: { number: 9080, name: 'http', protocol: 'HTTP' },
  appPort: 8080,
  serverIp: `${base}.11`,
  clientIp: `${base}.20`,
  injected: true,
};
const { serverIp, clientIp } = PODS;
const PORT = PODS.port.number;
const HOST = hostOf(PODS);

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

/** A plain HTTP GET to `ip:port` with Host set to the service: the status, or 0 if the connection failed. */
const get = (ip: string, path: string): Promise<number> =>
  httpStatus({ ip, port: PORT, host: HOST }, path, { failAs: 0 });

describe.skipIf(!proxyBuilt)(
  `skeind with its CA: mTLS between sidecars${proxyBuilt ? '' : ' (skein-proxy not built: run the build first)'}`,
  () => {
    const f = useLoopbackMesh('skeind-mtls-', {
      before: async ({ write }) => {
        write('mesh.yaml', twoPodsYaml(PODS));
        return [
          await listening(
            createServer((_req, res) => res.end('hello from web\n')),
            serverIp,
            PODS.appPort,
          ),
        ];
      },
      // The certificates and the xDS stream both come from skeind's TLS port.
      mesh: {
        namespace: NS,
        mtls: true,
        xdsOverTls: true,
        pods: [
          ['web', serverIp],
          ['client', clientIp],
        ],
      },
    });
    const { write } = f;
    const serverMetrics = (): Promise<string> => (f.sidecars[0] as Sidecar).prometheus();

    it('persists the root in --ca-dir and serves it', () => {
      const rootPem = readFileSync(f.mesh.cp.ca!.rootCertFile!, 'utf8');
      expect(rootPem).toBe(f.mesh.cp.ca!.rootCertPem);
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
      const ca = f.mesh.cp.ca!;
      const { client, stream } = openRawAdsStream(
        ca.address,
        grpc.credentials.createSsl(Buffer.from(ca.rootCertPem)),
        token,
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
