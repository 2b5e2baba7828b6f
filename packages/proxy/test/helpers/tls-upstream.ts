// Upstream mTLS for tests: an HTTPS server requiring a client certificate from the test CA, and a
// CDS cluster originating mTLS with SDS secrets `default` and `ROOTCA` (helpers/sds-secrets.ts).
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Leaf, TestPki } from './certs.js';

const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';

export interface TlsUpstream {
  port: number;
  /** TLS connections accepted (handshake done, client certificate verified). */
  handshakes: number;
  /** TLS handshakes that failed (e.g. no client certificate). */
  failures: number;
  close(): Promise<void>;
}

/**
 * An HTTPS upstream requiring a client certificate from the test CA; answers with the client
 * certificate's URI SAN and fingerprint, and closes each connection after its response (so each
 * request is a new handshake with the proxy's current certificate).
 */
export async function tlsUpstream(pki: TestPki, leaf: Leaf): Promise<TlsUpstream> {
  const up = { handshakes: 0, failures: 0 } as TlsUpstream;
  const server = https.createServer(
    { cert: leaf.cert, key: leaf.key, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.setHeader('connection', 'close');
      res.end(JSON.stringify({ san: peer.subjectaltname, fingerprint: peer.fingerprint256 }));
    },
  );
  server.on('secureConnection', () => up.handshakes++);
  server.on('tlsClientError', () => up.failures++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  up.port = (server.address() as { port: number }).port;
  up.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return up;
}

/**
 * A STATIC cluster `name` to `port` originating mTLS with SDS secrets `default` and `ROOTCA` from
 * `sdsConfig`, expecting the server's URI SAN `serverId`.
 */
export function mtlsCluster(
  name: string,
  port: number,
  serverId: string,
  sdsConfig: Record<string, unknown>,
): Record<string, unknown> {
  return {
    name,
    type: 'STATIC',
    connectTimeout: '1s',
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
        '@type': `${TLS}UpstreamTlsContext`,
        commonTlsContext: {
          tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig }],
          combinedValidationContext: {
            defaultValidationContext: {
              matchTypedSubjectAltNames: [{ sanType: 'URI', matcher: { exact: serverId } }],
            },
            validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig },
          },
        },
      },
    },
  };
}
