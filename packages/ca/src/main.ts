// Entry point of skein-ca: the standalone CA. Every flag with its default and description.
import { Command, Option } from 'commander';
import { SKEIN_VERSION, parseDuration } from '@skein/api-types';
import { MeshCertificateAuthenticator, type Authenticator } from './authn/authenticator.js';
import { TokensFileAuthenticator } from './authn/tokens-file.js';
import { CertificateAuthority } from './pki/issue.js';
import type { KeyAlgorithm } from './pki/keys.js';
import { startCa, DEFAULT_SERVING_IDENTITY } from './server/start-ca.js';
import {
  loadDirectoryCaState,
  rotateRoot,
  watchDirectoryCa,
  type RotationStep,
} from './store/root-rotation.js';
import { TokenReviewAuthenticator } from './authn/token-review.js';
import { KubeClient, inClusterConnection, kubeconfigConnection } from './kube/kube-client.js';
import { kubeTokenReviewer, loadOrCreateKubeCa, publishRootCert } from './kube/kube-ca.js';
import { watchKubeCa } from './kube/kube-ca-watch.js';
import { rotateKubeRoot } from './kube/kube-root-rotation.js';
import { rootRotatorEnv, startSelfSignedRootRotator } from './kube/self-signed-root-rotator.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const seconds = (s: string): number => Math.round(parseDuration(s) / 1000);

// Subcommand options (rotate-root's --dir, --mode, ...) belong to the subcommand, not the server.
const program = new Command('skein-ca')
  .enablePositionalOptions()
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
    '--root-check-interval <duration>',
    'kubernetes mode, self-signed root: how often istio-ca-secret is checked for renewal (env CITADEL_SELF_SIGNED_ROOT_CERT_CHECK_INTERVAL)',
  )
  .option(
    '--root-grace-percent <n>',
    'kubernetes mode, self-signed root: renew it with its key when less than this % of its lifetime remains (env CITADEL_SELF_SIGNED_ROOT_CERT_GRACE_PERIOD_PERCENTILE; default 20)',
  )
  .option(
    '--root-ttl <duration>',
    'lifetime of a new or renewed self-signed root (env CITADEL_SELF_SIGNED_CA_CERT_TTL; default 87600h)',
  )
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
  .option(
    '--reload-interval <duration>',
    'how often the CA directory (or in Kubernetes mode the cacerts / istio-ca-secret Secret) is checked for changes',
    '5s',
  )
  .action(async (o: Record<string, string | string[] | boolean | undefined>) => {
    const trustDomain = String(o['trustDomain']);
    const rootTtl = o['rootTtl'] !== undefined ? seconds(String(o['rootTtl'])) : rootRotatorEnv().ttlSeconds;
    const rootOptions = {
      trustDomain,
      keyAlgorithm: o['keyAlgorithm'] as KeyAlgorithm,
      ...(rootTtl !== undefined ? { ttlSeconds: rootTtl } : {}),
    };
    const kube =
      o['mode'] === 'kubernetes'
        ? new KubeClient(
            o['kubeconfig'] ? kubeconfigConnection(String(o['kubeconfig'])) : inClusterConnection(),
          )
        : undefined;
    const state = kube
      ? { loaded: await loadOrCreateKubeCa(kube, String(o['caNamespace']), rootOptions), extraRoots: [] }
      : await loadDirectoryCaState(String(o['dir']), rootOptions);
    const loaded = state.loaded;
    const ca = await CertificateAuthority.create(
      loaded.material,
      {
        defaultTtlSeconds: seconds(String(o['defaultTtl'])),
        maxTtlSeconds: seconds(String(o['maxTtl'])),
        clockSkewSeconds: seconds(String(o['clockSkew'])),
      },
      state.extraRoots,
    );
    // Root rotation steps (`skein-ca rotate-root`), replaced files or an edited `cacerts` Secret take effect live.
    const watchOptions = {
      root: rootOptions,
      intervalMs: seconds(String(o['reloadInterval'])) * 1000,
      log: (msg: string, f?: Record<string, unknown>) =>
        console.log(JSON.stringify({ scope: 'ca', msg, ...f })),
    };
    const watch = kube
      ? watchKubeCa(kube, String(o['caNamespace']), ca, { ...watchOptions, startedFrom: loaded.source })
      : watchDirectoryCa(String(o['dir']), ca, watchOptions);
    // istiod's self-signed root rotator: renewed with the same key before it expires.
    const rotatorEnv = rootRotatorEnv();
    const rotator =
      kube && loaded.source !== 'plugin'
        ? startSelfSignedRootRotator(kube, String(o['caNamespace']), {
            intervalMs:
              o['rootCheckInterval'] !== undefined
                ? seconds(String(o['rootCheckInterval'])) * 1000
                : (rotatorEnv.intervalMs ?? 3_600_000),
            ...(o['rootGracePercent'] !== undefined
              ? { gracePercent: Number(o['rootGracePercent']) }
              : rotatorEnv.gracePercent !== undefined
                ? { gracePercent: rotatorEnv.gracePercent }
                : {}),
            ...(rootOptions.ttlSeconds !== undefined ? { ttlSeconds: rootOptions.ttlSeconds } : {}),
            reload: () => watch.reload(),
            log: watchOptions.log,
          })
        : undefined;
    if (rotator)
      void rotator
        .check()
        .catch((e: Error) => watchOptions.log('self-signed root check failed', { error: e.message }));
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
        ca.onChange(() => void publish());
      }
    }
    if (o['tokensFile']) {
      authenticators.push(
        await new TokensFileAuthenticator(String(o['tokensFile']), trustDomain, (m) =>
          console.log(JSON.stringify({ scope: 'ca', msg: m })),
        ).load(),
      );
    }
    // Renewal with a mesh certificate from the signing CA or, during a rotation, any trusted root.
    authenticators.push(
      new MeshCertificateAuthenticator(() => [ca.material.caCertPem, ...ca.trustedRoots], trustDomain),
    );
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
    const stop = () => {
      watch?.stop();
      rotator?.stop();
      void running.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

program
  .command('rotate-root')
  .description(
    'one step of a rotation to a new root key with overlap — prepare (a new root, trusted), switch (it signs, the old one stays trusted), finish (the old root is dropped) — on the CA directory or (--mode kubernetes) Secret istio-ca-secret; a running CA picks each step up',
  )
  .addOption(
    new Option('--step <step>', 'the rotation step')
      .choices(['prepare', 'switch', 'finish'])
      .makeOptionMandatory(),
  )
  .option('--dir <dir>', 'directory mode: the CA directory', './var/lib/skein-ca')
  .addOption(
    new Option('--mode <mode>', 'where the root lives: the CA directory, or Secret istio-ca-secret')
      .choices(['directory', 'kubernetes'])
      .default('directory'),
  )
  .option('--kubeconfig <file>', 'kubernetes mode: kubeconfig (default: in-cluster service account)')
  .option('--ca-namespace <ns>', 'kubernetes mode: namespace of istio-ca-secret', 'skein-system')
  .option('--trust-domain <td>', 'SPIFFE trust domain of the new root', 'cluster.local')
  .addOption(
    new Option('--key-algorithm <alg>', 'key algorithm of the new root')
      .choices(['ECDSA_P256', 'RSA_2048'])
      .default('ECDSA_P256'),
  )
  .action(
    async (o: {
      step: RotationStep;
      dir: string;
      mode: string;
      kubeconfig?: string;
      caNamespace: string;
      trustDomain: string;
      keyAlgorithm: KeyAlgorithm;
    }) => {
      const root = { trustDomain: o.trustDomain, keyAlgorithm: o.keyAlgorithm };
      const where = o.mode === 'kubernetes' ? { secret: `${o.caNamespace}/istio-ca-secret` } : { dir: o.dir };
      const done =
        o.mode === 'kubernetes'
          ? await rotateKubeRoot(
              new KubeClient(o.kubeconfig ? kubeconfigConnection(o.kubeconfig) : inClusterConnection()),
              o.caNamespace,
              o.step,
              root,
            )
          : await rotateRoot(o.dir, o.step, root);
      console.log(
        JSON.stringify({ scope: 'ca', msg: 'root rotation', step: o.step, result: done, ...where }),
      );
    },
  );

await program.parseAsync();
