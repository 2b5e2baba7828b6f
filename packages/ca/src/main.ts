// Entry point of skein-ca: the standalone CA. Every flag with its default and description.
import { Command, Option } from 'commander';
import { SKEIN_VERSION, parseDuration } from '@skein/api-types';
import { MeshCertificateAuthenticator, type Authenticator } from './authn/authenticator.js';
import { TokensFileAuthenticator } from './authn/tokens-file.js';
import { CertificateAuthority } from './pki/issue.js';
import type { KeyAlgorithm } from './pki/keys.js';
import { startCa, DEFAULT_SERVING_IDENTITY } from './server/start-ca.js';
import { loadOrCreateDirectoryCa } from './store/directory-store.js';
import { TokenReviewAuthenticator } from './authn/token-review.js';
import { KubeClient, inClusterConnection, kubeconfigConnection } from './kube/kube-client.js';
import { kubeTokenReviewer, loadOrCreateKubeCa, publishRootCert } from './kube/kube-ca.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const seconds = (s: string): number => Math.round(parseDuration(s) / 1000);

const program = new Command('skein-ca')
  .description(
    'skein-ca: the Skein certificate authority (istio.v1.auth.IstioCertificateService over TLS gRPC)',
  )
  .version(SKEIN_VERSION, '--version', 'print the release version')
  .option(
    '--dir <dir>',
    'CA directory: plug-in files (ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem) or self-signed/ created on first start',
    './var/lib/skein-ca',
  )
  .option('--trust-domain <td>', 'SPIFFE trust domain', 'cluster.local')
  .addOption(
    new Option('--key-algorithm <alg>', 'key algorithm of a new self-signed root')
      .choices(['ECDSA_P256', 'RSA_2048'])
      .default('ECDSA_P256'),
  )
  .option('--host <ip>', 'listen address', '0.0.0.0')
  .option('--port <port>', 'listen port (TLS gRPC)', '15012')
  .option('--default-ttl <duration>', 'certificate TTL when the request gives none', '24h')
  .option('--max-ttl <duration>', 'largest TTL a request may ask for', '2160h')
  .option('--clock-skew <duration>', 'notBefore is backdated by this much', '60s')
  .addOption(
    new Option('--mode <mode>', 'where the root lives and how callers authenticate')
      .choices(['directory', 'kubernetes'])
      .default('directory'),
  )
  .option('--kubeconfig <file>', 'kubernetes mode: kubeconfig (default: in-cluster service account)')
  .option('--ca-namespace <ns>', 'kubernetes mode: namespace of the CA Secrets', 'skein-system')
  .option('--token-audience <aud>', 'kubernetes mode: audience service-account tokens must carry', 'istio-ca')
  .option(
    '--root-resync <duration>',
    'kubernetes mode: how often the root ConfigMaps are re-published',
    '60s',
  )
  .option(
    '--no-publish-root',
    'kubernetes mode: do not write ConfigMap istio-ca-root-cert to every namespace',
  )
  .option('--tokens-file <file>', 'bootstrap tokens: lines "<token> <namespace> <service-account>"')
  .option(
    '--serving-dns <name>',
    'DNS name in the CA serving certificate (repeatable)',
    collect,
    [] as string[],
  )
  .option(
    '--serving-ip <ip>',
    'IP address in the CA serving certificate (repeatable)',
    collect,
    [] as string[],
  )
  .action(async (o: Record<string, string | string[] | boolean | undefined>) => {
    const trustDomain = String(o['trustDomain']);
    const rootOptions = { trustDomain, keyAlgorithm: o['keyAlgorithm'] as KeyAlgorithm };
    const kube =
      o['mode'] === 'kubernetes'
        ? new KubeClient(
            o['kubeconfig'] ? kubeconfigConnection(String(o['kubeconfig'])) : inClusterConnection(),
          )
        : undefined;
    const loaded = kube
      ? await loadOrCreateKubeCa(kube, String(o['caNamespace']), rootOptions)
      : await loadOrCreateDirectoryCa(String(o['dir']), rootOptions);
    const ca = await CertificateAuthority.create(loaded.material, {
      defaultTtlSeconds: seconds(String(o['defaultTtl'])),
      maxTtlSeconds: seconds(String(o['maxTtl'])),
      clockSkewSeconds: seconds(String(o['clockSkew'])),
    });
    const authenticators: Authenticator[] = [];
    if (kube) {
      authenticators.push(
        new TokenReviewAuthenticator(kubeTokenReviewer(kube), trustDomain, [String(o['tokenAudience'])]),
      );
      if (o['publishRoot'] !== false) {
        // New namespaces get the root at the next resync.
        const publish = () =>
          publishRootCert(kube, ca.rootCertPem).catch((e: Error) =>
            console.log(JSON.stringify({ scope: 'ca', msg: 'publishing the root failed', error: e.message })),
          );
        await publish();
        setInterval(() => void publish(), seconds(String(o['rootResync'])) * 1000).unref();
      }
    }
    if (o['tokensFile']) {
      authenticators.push(
        await new TokensFileAuthenticator(String(o['tokensFile']), trustDomain, (m) =>
          console.log(JSON.stringify({ scope: 'ca', msg: m })),
        ).load(),
      );
    }
    authenticators.push(new MeshCertificateAuthenticator(ca.material.caCertPem, trustDomain));
    const dns = o['servingDns'] as string[];
    const ips = o['servingIp'] as string[];
    const running = await startCa({
      ca,
      authenticators,
      host: String(o['host']),
      port: Number(o['port']),
      serving: {
        dnsNames: dns.length > 0 ? dns : DEFAULT_SERVING_IDENTITY.dnsNames,
        ipAddresses: ips.length > 0 ? ips : (DEFAULT_SERVING_IDENTITY.ipAddresses ?? []),
      },
      log: (e) => console.log(JSON.stringify({ scope: 'ca', ...e })),
    });
    console.log(
      JSON.stringify({ scope: 'ca', msg: 'serving', port: running.port, root: loaded.source, trustDomain }),
    );
    const stop = () => void running.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

await program.parseAsync();
