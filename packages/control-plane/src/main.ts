// Entry point of skeind: parses the command line and starts the program. Every flag is here,
// with its default and description.
import { Command, InvalidArgumentError, Option } from 'commander';
import { SKEIN_VERSION, parseDuration } from '@skein/api-types';
import { meshSecurity } from '@skein/ca';
import { startControlPlane } from './control-plane.js';
import type { Level } from './log.js';
import { defaultCaDir, type EmbeddedCaConfig } from './security/embedded-ca.js';

const ms = (v: string): number => {
  const n = Number(v.replace(/ms$/, ''));
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('want milliseconds, e.g. 100 or 100ms');
  return n;
};

const duration = (v: string): number => {
  try {
    return parseDuration(v);
  } catch {
    throw new InvalidArgumentError('want a duration, e.g. 60s, 24h');
  }
};

const list = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

const program = new Command('skeind')
  .description('skeind: the Skein control plane: watches mesh configuration and serves xDS')
  .version(SKEIN_VERSION, '--version', 'print the release version')
  .option('--config-dir <dir>', 'directory of Istio YAML (multi-document, watched); runs without Kubernetes')
  .option(
    '--kubeconfig <file>',
    'watch a Kubernetes API server with this kubeconfig; in a pod its service account is used without it',
  )
  .option(
    '--mesh-config <file>',
    'MeshConfig YAML (or a ConfigMap with data.mesh); Istio defaults when absent',
  )
  .option(
    '--system-namespace <ns>',
    "the control plane's namespace, where the mesh ConfigMap lives",
    process.env['POD_NAMESPACE'] ?? 'skein-system',
  )
  .option(
    '--mesh-configmap <name>',
    'with Kubernetes: the ConfigMap (key "mesh") holding the mesh config, watched; wins over --mesh-config while it exists',
    'istio',
  )
  .option('--xds-addr <host:port>', 'plaintext gRPC ADS address', '0.0.0.0:15010')
  .option(
    '--no-ca',
    'do not embed the CA (certificates then come from a standalone skein-ca; 15012 is not served)',
  )
  .addOption(
    new Option(
      '--ca-mode <mode>',
      'where the root lives and how callers authenticate: kubernetes (Secret + TokenReview) when skeind talks to Kubernetes, else directory',
    )
      .choices(['auto', 'directory', 'kubernetes'])
      .default('auto'),
  )
  .option(
    '--ca-dir <dir>',
    'directory mode: root created here on first start and kept (self-signed/), or Istio cacerts files',
    defaultCaDir(),
  )
  .option(
    '--ca-tokens-file <file>',
    'bootstrap tokens, one "<token> <namespace> <service-account>" a line (directory mode; also accepted in kubernetes mode)',
  )
  .option(
    '--ca-namespace <ns>',
    'kubernetes mode: namespace of Secrets istio-ca-secret / cacerts',
    'skein-system',
  )
  .option(
    '--ca-token-audience <aud>',
    'kubernetes mode: audience service-account tokens must carry',
    'istio-ca',
  )
  .option(
    '--no-ca-publish-root',
    'kubernetes mode: do not write ConfigMap istio-ca-root-cert to every namespace',
  )
  .option(
    '--ca-root-resync <duration>',
    'kubernetes mode: full re-publication period of the root ConfigMaps',
    duration,
    60_000,
  )
  .option(
    '--serving-cert-ttl <duration>',
    "lifetime of skeind's own serving certificate on --secure-addr (issued by its CA, reissued at half)",
    duration,
    30 * 86_400_000,
  )
  .option(
    '--secure-addr <host:port>',
    'TLS gRPC address serving the CSR service and ADS (with the CA)',
    '0.0.0.0:15012',
  )
  .option(
    '--webhook-addr <host:port>',
    'HTTPS admission webhooks (/inject: sidecar injection, /validate: mesh config) with the CA serving certificate (default: 0.0.0.0:15017 with Kubernetes, none without)',
  )
  .option('--no-webhook', 'do not serve the admission webhooks (they need the embedded CA)')
  .option(
    '--proxy-image <image>',
    'image of the injected init step and sidecar',
    `skein/proxy:${SKEIN_VERSION}`,
  )
  .option(
    '--injector-discovery-address <host:port>',
    "skeind's TLS address as injected sidecars reach it (default skeind.<system-namespace>.svc:15012)",
  )
  .addOption(
    new Option(
      '--injection-policy <policy>',
      'enabled: inject unless disabled; disabled: only pods labelled sidecar.istio.io/inject=true',
    )
      .choices(['enabled', 'disabled'])
      .default('enabled'),
  )
  .option(
    '--injector-webhook-config <names>',
    'with Kubernetes: MutatingWebhookConfigurations whose caBundle skeind keeps (comma-separated)',
    'skein-sidecar-injector',
  )
  .option(
    '--validator-webhook-config <names>',
    'with Kubernetes: ValidatingWebhookConfigurations whose caBundle skeind keeps (comma-separated)',
    'skein-validator',
  )
  .option('--http-addr <host:port>', 'HTTP address for /metrics, /ready and /debug/*', '0.0.0.0:15014')
  .option('--debounce-after <ms>', 'quiet period before a push', ms, 100)
  .option('--debounce-max <ms>', 'maximum delay of a push after the first change', ms, 1000)
  .option('--file-settle <ms>', 'a config file must be unmodified this long before it is read', ms, 100)
  .option(
    '--push-streams-per-turn <n>',
    'streams written per event-loop turn during a push, so the first bytes leave while later streams are prepared (0: all in one turn)',
    (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`not a count: ${v}`);
      return n;
    },
    0,
  )
  .option(
    '--mesh-security',
    'with --no-ca: translate PeerAuthentication / AuthorizationPolicy / RequestAuthentication and ISTIO_MUTUAL (auto mTLS) anyway (on whenever the CA is); proxies then need SDS certificates from skein-agent',
    false,
  )
  .option('--log-level <level>', 'debug | info | warn | error', 'info')
  .option(
    '--trace-push',
    'log one "push trace" line per push: wall-clock time of each stage (file event, scan, parse, snapshot, debounce, push, first/last stream write)',
    false,
  )
  .action(
    async (o: {
      configDir?: string;
      kubeconfig?: string;
      systemNamespace: string;
      meshConfigmap: string;
      meshConfig?: string;
      xdsAddr: string;
      ca: boolean;
      caMode: 'auto' | 'directory' | 'kubernetes';
      caDir: string;
      caTokensFile?: string;
      caNamespace: string;
      caTokenAudience: string;
      caPublishRoot: boolean;
      caRootResync: number;
      servingCertTtl: number;
      secureAddr: string;
      webhookAddr?: string;
      webhook: boolean;
      proxyImage: string;
      injectorDiscoveryAddress?: string;
      injectionPolicy: 'enabled' | 'disabled';
      injectorWebhookConfig: string;
      validatorWebhookConfig: string;
      httpAddr: string;
      debounceAfter: number;
      debounceMax: number;
      fileSettle: number;
      pushStreamsPerTurn: number;
      logLevel: string;
      meshSecurity: boolean;
      tracePush: boolean;
    }) => {
      const kubeconfig = o.kubeconfig ?? (process.env['KUBERNETES_SERVICE_HOST'] ? 'in-cluster' : undefined);
      const kubeCa = o.caMode === 'kubernetes' || (o.caMode === 'auto' && kubeconfig !== undefined);
      const ca: EmbeddedCaConfig | undefined = o.ca
        ? {
            dir: o.caDir,
            tokensFile: o.caTokensFile,
            secureAddr: o.secureAddr,
            servingTtlSeconds: Math.round(o.servingCertTtl / 1000),
            ...(kubeCa
              ? {
                  kubernetes: {
                    namespace: o.caNamespace,
                    tokenAudience: o.caTokenAudience,
                    publishRoot: o.caPublishRoot,
                    rootResyncMs: o.caRootResync,
                  },
                }
              : {}),
          }
        : undefined;
      const cp = await startControlPlane({
        configDir: o.configDir,
        kubeconfig,
        meshConfigFile: o.meshConfig,
        meshConfigMap: { namespace: o.systemNamespace, name: o.meshConfigmap },
        xdsAddr: o.xdsAddr,
        httpAddr: o.httpAddr,
        ca,
        // The webhooks serve an API server: on by default with Kubernetes, on request without.
        ...(o.ca && o.webhook && (o.webhookAddr !== undefined || kubeconfig !== undefined)
          ? {
              webhook: {
                addr: o.webhookAddr ?? '0.0.0.0:15017',
                injector: {
                  proxyImage: o.proxyImage,
                  discoveryAddress:
                    o.injectorDiscoveryAddress ??
                    `skeind.${o.systemNamespace}.svc:${o.secureAddr.split(':').pop()}`,
                  policy: o.injectionPolicy,
                },
                injectorConfigMap: { namespace: o.systemNamespace, name: 'istio-sidecar-injector' },
                mutatingConfigs: list(o.injectorWebhookConfig),
                validatingConfigs: list(o.validatorWebhookConfig),
              },
            }
          : {}),
        debounceMs: o.debounceAfter,
        debounceMaxMs: o.debounceMax,
        settleMs: o.fileSettle,
        logLevel: o.logLevel as Level,
        tracePush: o.tracePush,
        streamsPerTurn: o.pushStreamsPerTurn || undefined,
        ...(o.meshSecurity ? { security: meshSecurity() } : {}),
      });
      let stopping = false;
      const stop = (): void => {
        if (stopping) return;
        stopping = true;
        void cp.stop().then(() => process.exit(0));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
  );

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`skeind: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
