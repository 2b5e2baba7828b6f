// A Gateway's HTTPS server with `credentialName`, through a real skein-proxy gateway: skeind reads
// the TLS Secret of the gateway's namespace (here from its config directory, as it would from the
// API server), serves it over ADS as `kubernetes://<name>`, the gateway terminates TLS with it and
// routes by the bound VirtualService; a Secret of the same name in another namespace is never
// served; an edited Secret reaches new handshakes; MUTUAL takes the CA from `ca.crt`.
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, createRootCa, issueServingCertificate } from '@skein/ca';
import type { RunningControlPlane } from '../src/control-plane.js';
import { startLoopbackMesh, type LoopbackMesh } from './support/loopback-mesh.js';
import { loopbackBase, proxyBuilt, until, type Sidecar } from './support/sidecar-proxy.js';
import { testConfigDir } from './support/config-dir.js';

const base = loopbackBase();
const gatewayIp = `${base}.2`;
const backendIp = `${base}.20`;
const HTTPS = 18443;
const MTLS = 18444;
const APP = 'app.example.com';

const gatewayConfig = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: web, namespace: gw }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: ${HTTPS}, name: https, protocol: HTTPS }
    hosts: [${APP}]
    tls: { mode: SIMPLE, credentialName: app-cred }
  - port: { number: ${MTLS}, name: https-mtls, protocol: HTTPS }
    hosts: [${APP}]
    tls: { mode: MUTUAL, credentialName: app-cred }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: backend, namespace: gw }
spec:
  hosts: [backend.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: ${backendIp} }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: app, namespace: gw }
spec:
  hosts: [${APP}]
  gateways: [web]
  http: [{ route: [{ destination: { host: backend.internal, port: { number: 8080 } } }] }]
`;

const secretYaml = (ns: string, cert: string, key: string, ca: string) => `apiVersion: v1
kind: Secret
metadata: { name: app-cred, namespace: ${ns} }
type: kubernetes.io/tls
stringData:
  tls.crt: ${JSON.stringify(cert)}
  tls.key: ${JSON.stringify(key)}
  ca.crt: ${JSON.stringify(ca)}
`;

interface Answer {
  status: number;
  body: string;
  san: string;
}

function get(port: number, ca: string, client?: { cert: string; key: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: gatewayIp,
        port,
        path: '/hello',
        servername: APP,
        headers: { host: APP },
        ca,
        agent: false,
        ...(client ?? {}),
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            san: (res.socket as TLSSocket).getPeerX509Certificate()?.subjectAltName ?? '',
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!proxyBuilt)(
  `Gateway credentialName over SDS from skeind${proxyBuilt ? '' : ' (skein-proxy not built: run the build first)'}`,
  () => {
    const { dir, configDir, write, remove } = testConfigDir('skeind-gw-cred-');
    let mesh: LoopbackMesh | undefined;
    let cp: RunningControlPlane;
    let gateway: Sidecar | undefined;
    let backend: Server;
    let ca: CertificateAuthority;
    let caPem: string;
    const leaf = async (name: string) => {
      const c = await issueServingCertificate(ca, { dnsNames: [APP, name] });
      return { cert: c.certChainPem, key: c.keyPem };
    };

    beforeAll(async () => {
      ca = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }));
      caPem = ca.rootCertPem;
      const mine = await leaf('first.example');
      const theirs = await leaf('other-namespace.example');
      write('gateway.yaml', gatewayConfig);
      write('secret.yaml', secretYaml('gw', mine.cert, mine.key, caPem));
      write('other-secret.yaml', secretYaml('other', theirs.cert, theirs.key, caPem));
      backend = createServer((req, res) => res.end(`backend saw ${req.url}`));
      await new Promise<void>((r) => backend.listen(8080, backendIp, r));
      mesh = await startLoopbackMesh({
        configDir,
        dir,
        namespace: 'gw',
        pods: [],
        routers: [{ name: 'ingressgateway', ip: gatewayIp, labels: { istio: 'ingressgateway' } }],
      });
      cp = mesh.cp;
      gateway = mesh.sidecars[0];
    }, 150_000);

    afterAll(async () => {
      await mesh?.stop();
      await new Promise<void>((r) => (backend ? backend.close(() => r()) : r()));
      remove();
    });

    it("terminates TLS with the gateway namespace's Secret and routes to the backend", async () => {
      await until('HTTPS through the gateway', async () => (await get(HTTPS, caPem)).status === 200);
      const a = await get(HTTPS, caPem);
      expect(a.body).toBe('backend saw /hello');
      expect(a.san).toContain('DNS:first.example');
      expect(a.san).not.toContain('other-namespace');
      const dump = await gateway!.admin('/config_dump');
      expect(dump).toContain('kubernetes://app-cred');
      expect(dump).not.toContain('other-namespace');
      // skeind's debug view of what it sends shows the secret with its key redacted.
      const id = `router~${gatewayIp}~ingressgateway.gw~gw.svc.cluster.local`;
      const sent = (await (
        await fetch(`http://${cp.httpAddress}/debug/config_dump?proxyID=${encodeURIComponent(id)}`)
      ).json()) as { SDS: { name: string; tlsCertificate?: { privateKey?: unknown } }[] };
      expect(sent.SDS.map((x) => [x.name, x.tlsCertificate?.privateKey])).toEqual([
        ['kubernetes://app-cred', { inlineString: '[redacted]' }],
        ['kubernetes://app-cred-cacert', undefined],
      ]);
    });

    it('MUTUAL: refuses a client without a certificate, accepts one signed by ca.crt', async () => {
      const client = await issueServingCertificate(ca, { dnsNames: ['client.example'] });
      await until('mutual TLS through the gateway', async () => {
        const r = await get(MTLS, caPem, { cert: client.certChainPem, key: client.keyPem });
        return r.status === 200;
      });
      await expect(get(MTLS, caPem)).rejects.toThrow();
    });

    it('an edited Secret reaches new handshakes', async () => {
      const next = await leaf('second.example');
      write('secret.yaml', secretYaml('gw', next.cert, next.key, caPem));
      await until('the new certificate', async () =>
        (await get(HTTPS, caPem)).san.includes('second.example'),
      );
      expect((await get(HTTPS, caPem)).status).toBe(200);
    });
  },
);
