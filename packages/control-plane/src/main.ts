// Entry point of skeind: parses the command line and starts the program. Every flag is here,
// with its default and description.
import { Command, InvalidArgumentError } from 'commander';
import { SKEIN_VERSION } from '@skein/api-types';
import { meshSecurity } from '@skein/ca';
import { startControlPlane } from './control-plane.js';
import type { Level } from './log.js';

const ms = (v: string): number => {
  const n = Number(v.replace(/ms$/, ''));
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('want milliseconds, e.g. 100 or 100ms');
  return n;
};

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
    '--ca-dir <dir>',
    'embedded CA (directory mode): root created here on first start and kept, or Istio cacerts files; turns on mTLS/authz translation (PERMISSIVE by default). Default: no CA',
  )
  .option(
    '--ca-tokens-file <file>',
    'with --ca-dir: bootstrap tokens, one "<token> <namespace> <service-account>" a line',
  )
  .option(
    '--secure-addr <host:port>',
    'with --ca-dir: TLS gRPC address serving the CSR service and ADS (default: 0.0.0.0:15012)',
  )
  .option('--http-addr <host:port>', 'HTTP address for /metrics, /ready and /debug/*', '0.0.0.0:15014')
  .option('--debounce-after <ms>', 'quiet period before a push', ms, 100)
  .option('--debounce-max <ms>', 'maximum delay of a push after the first change', ms, 1000)
  .option('--file-settle <ms>', 'a config file must be unmodified this long before it is read', ms, 100)
  .option(
    '--mesh-security',
    'translate PeerAuthentication / AuthorizationPolicy / RequestAuthentication and ISTIO_MUTUAL (auto mTLS) with @skein/ca; proxies then need SDS certificates from skein-agent',
    false,
  )
  .option('--log-level <level>', 'debug | info | warn | error', 'info')
  .action(
    async (o: {
      configDir?: string;
      kubeconfig?: string;
      systemNamespace: string;
      meshConfigmap: string;
      meshConfig?: string;
      xdsAddr: string;
      caDir?: string;
      caTokensFile?: string;
      secureAddr?: string;
      httpAddr: string;
      debounceAfter: number;
      debounceMax: number;
      fileSettle: number;
      logLevel: string;
      meshSecurity: boolean;
    }) => {
      const cp = await startControlPlane({
        configDir: o.configDir,
        kubeconfig: o.kubeconfig ?? (process.env['KUBERNETES_SERVICE_HOST'] ? 'in-cluster' : undefined),
        meshConfigFile: o.meshConfig,
        meshConfigMap: { namespace: o.systemNamespace, name: o.meshConfigmap },
        xdsAddr: o.xdsAddr,
        httpAddr: o.httpAddr,
        ca: o.caDir ? { dir: o.caDir, tokensFile: o.caTokensFile, secureAddr: o.secureAddr } : undefined,
        debounceMs: o.debounceAfter,
        debounceMaxMs: o.debounceMax,
        settleMs: o.fileSettle,
        logLevel: o.logLevel as Level,
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
