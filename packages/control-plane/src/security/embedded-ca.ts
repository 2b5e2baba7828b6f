// skeind's embedded CA and its TLS port 15012 (the CSR service and ADS over TLS). Directory mode:
// the root in a directory (created on first start and kept), callers authenticated by bootstrap
// tokens or their mesh certificate. Kubernetes mode: the root in Secret istio-ca-secret of the CA
// namespace (created only if absent), service-account tokens checked by TokenReview, the root
// published to every namespace, a self-signed root renewed with its key before it expires (istiod's
// rotator and its CITADEL_SELF_SIGNED_* variables). skeind's own serving certificate is issued by
// the CA and reissued at half its lifetime without touching established connections.
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  CertificateAuthority,
  DEFAULT_SERVING_IDENTITY,
  KubeClient,
  MeshCertificateAuthenticator,
  TokenReviewAuthenticator,
  TokensFileAuthenticator,
  caServiceHandlers,
  kubeTokenReviewer,
  loadDirectoryCaState,
  loadOrCreateKubeCa,
  resolveKubeConnection,
  rootRotatorEnv,
  rotatingServingCredentials,
  serialOf,
  startSelfSignedRootRotator,
  watchDirectoryCa,
  watchKubeCa,
  type Authenticator,
  type DirectoryCaWatch,
  type KubeCaWatch,
  type RootRotator,
  type ServingCertificate,
} from '@skein/ca';
import { caServiceDefinition } from '@skein/api-types';
import type { Logger } from '../log.js';
import { startRootPublisher, type RootPublisher } from './root-publisher.js';
import { authenticatedXds } from './xds-gate.js';

/** What `startControlPlane({ ca })` and skeind's CA flags configure. */
export interface EmbeddedCaConfig {
  /**
   * Directory mode: the directory holding the root (`self-signed/`) or Istio's plug-in `cacerts`
   * files. Default `defaultCaDir()`. Ignored in Kubernetes mode.
   */
  readonly dir?: string | undefined;
  /** Kubernetes mode (skeind's kubeconfig / in-cluster credentials): root Secret, TokenReview, root ConfigMaps. */
  readonly kubernetes?:
    | {
        /** Namespace of Secrets `istio-ca-secret` / `cacerts`; default `skein-system`. */
        readonly namespace?: string | undefined;
        /** Audience service-account tokens must carry; default `istio-ca`. */
        readonly tokenAudience?: string | undefined;
        /** Publish ConfigMap `istio-ca-root-cert` to every namespace; default true. */
        readonly publishRoot?: boolean | undefined;
        /** Full re-publication period (ms); default 60 000 (new namespaces get it at once). */
        readonly rootResyncMs?: number | undefined;
        /**
         * Self-signed root: how often istio-ca-secret is checked for renewal (ms); default env
         * CITADEL_SELF_SIGNED_ROOT_CERT_CHECK_INTERVAL, else 1 h (istiod's).
         */
        readonly rootCheckMs?: number | undefined;
        /** Renew the root when less than this % of its lifetime remains; default env CITADEL_SELF_SIGNED_ROOT_CERT_GRACE_PERIOD_PERCENTILE, else 20. */
        readonly rootGracePercent?: number | undefined;
        /** Lifetime of a new or renewed self-signed root (s); default env CITADEL_SELF_SIGNED_CA_CERT_TTL, else 10 years. */
        readonly rootTtlSeconds?: number | undefined;
      }
    | undefined;
  /** Bootstrap tokens: one `<token> <namespace> <service-account>` per line (either mode); re-read when it changes. */
  readonly tokensFile?: string | undefined;
  /** `host:port` of the TLS port; default `0.0.0.0:15012`; port 0 picks a free port. */
  readonly secureAddr?: string | undefined;
  /** Lifetime of skeind's own serving certificate (seconds); default 30 days; reissued at half. */
  readonly servingTtlSeconds?: number | undefined;
  /** Directory mode: how often the CA directory is checked for a root rotation step (ms); default 5000. */
  readonly reloadMs?: number | undefined;
}

export interface EmbeddedCaOptions extends EmbeddedCaConfig {
  readonly trustDomain: string;
  /** skeind's kubeconfig option (path, `in-cluster`, `default`), for Kubernetes mode. */
  readonly kubeconfig?: string | undefined;
  /** The ADS service to serve over TLS as well. */
  readonly ads: { definition: grpc.ServiceDefinition; handlers: Record<string, (stream: never) => void> };
  readonly log: Logger;
}

export interface EmbeddedCa {
  /** Bound `host:port`. */
  readonly address: string;
  readonly mode: 'directory' | 'kubernetes';
  /** The trust bundle: the signing root, plus the other root during a rotation's overlap. */
  readonly rootCertPem: string;
  /** Where the root certificate is (for agents' `--ca-root-cert`); undefined in Kubernetes mode. */
  readonly rootCertFile: string | undefined;
  /** The serving certificate new TLS handshakes on the port get. */
  servingCertificate(): ServingCertificate;
  /** Called after every reissue of the serving certificate. */
  onServingRotated(listener: (serial: string) => void): void;
  close(): Promise<void>;
}

/** Directory mode's default: `$XDG_STATE_HOME/skein/ca`, else `~/.local/state/skein/ca`. */
export function defaultCaDir(env: NodeJS.ProcessEnv = process.env): string {
  const state = env['XDG_STATE_HOME'] || join(env['HOME'] || homedir(), '.local', 'state');
  return join(state, 'skein', 'ca');
}

export async function startEmbeddedCa(o: EmbeddedCaOptions): Promise<EmbeddedCa> {
  const log = o.log;
  const kubeMode = o.kubernetes !== undefined;
  const dir = o.dir ?? defaultCaDir();
  const kube = kubeMode ? new KubeClient(resolveKubeConnection(o.kubeconfig ?? 'default')) : undefined;
  const caNamespace = o.kubernetes?.namespace ?? 'skein-system';
  const env = rootRotatorEnv();
  const rootTtlSeconds = o.kubernetes?.rootTtlSeconds ?? env.ttlSeconds;
  const root = {
    trustDomain: o.trustDomain,
    ...(kubeMode && rootTtlSeconds !== undefined ? { ttlSeconds: rootTtlSeconds } : {}),
  };
  const state = kube
    ? { loaded: await loadOrCreateKubeCa(kube, caNamespace, root), extraRoots: [] }
    : await loadDirectoryCaState(dir, root);
  const loaded = state.loaded;
  const ca = await CertificateAuthority.create(loaded.material, {}, state.extraRoots);
  // Root rotation steps (`skein-ca rotate-root --dir`), replaced files, or an edited `cacerts`
  // Secret (plug-in rotation) take effect live.
  const watchOptions = {
    root,
    intervalMs: o.reloadMs ?? 5000,
    log: (m: string, f?: Record<string, unknown>) => log.info(m, f),
  };
  const watch: DirectoryCaWatch | KubeCaWatch = kube
    ? watchKubeCa(kube, caNamespace, ca, { ...watchOptions, startedFrom: loaded.source })
    : watchDirectoryCa(dir, ca, watchOptions);
  // istiod's self-signed root rotator: the root renewed with its own key before it expires.
  let rotator: RootRotator | undefined;
  if (kube && loaded.source !== 'plugin') {
    const gracePercent = o.kubernetes?.rootGracePercent ?? env.gracePercent;
    rotator = startSelfSignedRootRotator(kube, caNamespace, {
      intervalMs: o.kubernetes?.rootCheckMs ?? env.intervalMs ?? 3_600_000,
      ...(gracePercent !== undefined ? { gracePercent } : {}),
      ...(rootTtlSeconds !== undefined ? { ttlSeconds: rootTtlSeconds } : {}),
      reload: () => watch.reload(),
      log: (m, f) => log.info(m, f),
    });
    void rotator.check().catch((e: Error) => log.warn('self-signed root check failed', { error: e.message }));
  }
  const authenticators: Authenticator[] = [
    // Renewal with a mesh certificate from the signing CA or, during a root rotation, any trusted root.
    new MeshCertificateAuthenticator(() => [ca.material.caCertPem, ...ca.trustedRoots], o.trustDomain),
  ];
  if (o.tokensFile)
    authenticators.push(
      await new TokensFileAuthenticator(o.tokensFile, o.trustDomain, (m) => log.warn(m)).load(),
    );
  if (kube)
    authenticators.push(
      new TokenReviewAuthenticator(kubeTokenReviewer(kube), o.trustDomain, [
        o.kubernetes?.tokenAudience ?? 'istio-ca',
      ]),
    );

  const address = o.secureAddr ?? '0.0.0.0:15012';
  const host = address.slice(0, address.lastIndexOf(':'));
  const rotated = new Set<(serial: string) => void>();
  const serving = await rotatingServingCredentials(
    ca,
    {
      dnsNames: [
        ...new Set([
          ...DEFAULT_SERVING_IDENTITY.dnsNames,
          `skeind.${caNamespace}.svc`,
          `skeind.${caNamespace}.svc.cluster.local`,
        ]),
      ],
      ipAddresses: [
        ...new Set([
          ...(DEFAULT_SERVING_IDENTITY.ipAddresses ?? []),
          ...(/^[\d.]+$/.test(host) && host !== '0.0.0.0' ? [host] : []),
        ]),
      ],
      ttlSeconds: o.servingTtlSeconds ?? 30 * 86400,
    },
    {
      onRotate: (e) => {
        if (e.error) log.warn('serving certificate not reissued; retrying', { error: e.error });
        else {
          log.info('serving certificate reissued', { serial: e.serial, notAfter: e.notAfter });
          for (const l of rotated) l(e.serial ?? '');
        }
      },
    },
  );

  const server = new grpc.Server();
  server.addService(
    caServiceDefinition,
    caServiceHandlers({
      ca,
      authenticators,
      log: (e) => (e.ok ? log.info('certificate issued', e) : log.warn('certificate refused', e)),
    }),
  );
  const ads: grpc.UntypedServiceImplementation = {};
  for (const [name, h] of Object.entries(o.ads.handlers))
    ads[name] = authenticatedXds(h, authenticators, log);
  server.addService(o.ads.definition, ads);
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, serving.credentials, (err, p) => (err ? reject(err) : resolve(p))),
    );
  } catch (e) {
    watch.stop();
    rotator?.stop();
    serving.stop();
    throw new Error(`CA port ${address}: ${(e as Error).message} (--secure-addr, or --no-ca)`);
  }
  let publisher: RootPublisher | undefined;
  if (kube && o.kubernetes?.publishRoot !== false)
    publisher = await startRootPublisher({
      kube,
      kubeconfig:
        o.kubeconfig === undefined || o.kubeconfig === 'in-cluster' || o.kubeconfig === 'default'
          ? undefined
          : o.kubeconfig,
      rootCertPem: () => ca.rootCertPem,
      resyncMs: o.kubernetes?.rootResyncMs,
      log,
    });
  const stopRepublish = publisher ? ca.onChange(() => publisher?.publishNow()) : undefined;
  const rootCertFile = kube
    ? undefined
    : loaded.source === 'plugin'
      ? join(dir, 'root-cert.pem')
      : join(dir, 'self-signed', 'root-cert.pem');
  log.info('CA started', {
    mode: kube ? 'kubernetes' : 'directory',
    root: loaded.source,
    ...(kube ? { secret: `${caNamespace}/istio-ca-secret` } : { rootCertFile }),
    tokens: o.tokensFile,
    address: `${host}:${port}`,
    servingSerial: serialOf(serving.current()),
  });
  return {
    address: `${host}:${port}`,
    mode: kube ? 'kubernetes' : 'directory',
    get rootCertPem() {
      return ca.rootCertPem;
    },
    rootCertFile,
    servingCertificate: () => serving.current(),
    onServingRotated: (l) => void rotated.add(l),
    close: async () => {
      stopRepublish?.();
      watch.stop();
      rotator?.stop();
      serving.stop();
      await publisher?.stop();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}
