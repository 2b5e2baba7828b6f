// Entry point of skein-agent: every flag of every subcommand, with its default and description.
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { SKEIN_VERSION } from '@skein/api-types';
import { buildBootstrap } from './bootstrap/build-bootstrap.js';
import { bootstrapOptionsFromFlags, type BootstrapFlags } from './bootstrap/bootstrap-flags.js';

const env = process.env;
const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** The flags that describe the workload and its proxy's local addresses (bootstrap and proxy). */
function withBootstrapFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('--type <type>', 'proxy type: sidecar or router (gateway)').default('sidecar'))
    .option('--pod-name <name>', 'pod name (env POD_NAME)', env['POD_NAME'] ?? 'local')
    .option('--namespace <ns>', 'pod namespace (env POD_NAMESPACE)', env['POD_NAMESPACE'] ?? 'default')
    .option('--pod-ip <ip>', 'pod IP (env INSTANCE_IP)', env['INSTANCE_IP'] ?? '127.0.0.1')
    .option(
      '--service-account <sa>',
      'service account (env SERVICE_ACCOUNT)',
      env['SERVICE_ACCOUNT'] ?? 'default',
    )
    .option(
      '--cluster-id <id>',
      'cluster id (env ISTIO_META_CLUSTER_ID)',
      env['ISTIO_META_CLUSTER_ID'] ?? 'Kubernetes',
    )
    .option(
      '--mesh-id <id>',
      'mesh id (env ISTIO_META_MESH_ID)',
      env['ISTIO_META_MESH_ID'] ?? 'cluster.local',
    )
    .option(
      '--workload-name <name>',
      'owning workload name (default: the pod name)',
      env['ISTIO_META_WORKLOAD_NAME'],
    )
    .option('--label <k=v>', 'a pod label (repeatable)', collect, [] as string[])
    .option('--interception-mode <mode>', 'REDIRECT, TPROXY or NONE (default REDIRECT for sidecars)')
    .option(
      '--pod-ports <json>',
      'container ports as JSON (env ISTIO_META_POD_PORTS)',
      env['ISTIO_META_POD_PORTS'],
    )
    .option('--app-containers <list>', 'comma-separated app containers', env['ISTIO_META_APP_CONTAINERS'])
    .option(
      '--discovery-address <addr>',
      'xDS server: host:port or unix:/path',
      env['SKEIN_DISCOVERY_ADDRESS'] ?? 'skeind.skein-system.svc:15010',
    )
    .option('--discovery-tls', 'originate TLS to the xDS server with the SDS workload certificate', false)
    .option('--discovery-server-name <sni>', 'SNI for the xDS server')
    .option('--sds-socket <path>', 'SDS Unix socket', './var/run/secrets/workload-spiffe-uds/socket')
    .option('--admin-address <ip>', 'proxy admin address', '127.0.0.1')
    .option('--admin-port <port>', 'proxy admin port', '15000')
    .option('--listen-address <ip>', 'address of the stats and readiness listeners', '0.0.0.0')
    .option('--stats-port <port>', 'Prometheus listener port (none to omit)', '15090')
    .option('--readiness-port <port>', 'readiness listener port (none to omit)', '15021')
    .option('--readiness-source <src>', 'agent (status server) or admin (proxy /ready)', 'agent')
    .option('--agent-address <ip>', 'agent status server address', '127.0.0.1')
    .option('--agent-port <port>', 'agent status server port (probes, merged metrics)', '15020');
}

const program = new Command('skein-agent')
  .description(
    'skein-agent: the Skein sidecar agent: bootstrap, certificates over SDS, probes, DNS, iptables',
  )
  .version(SKEIN_VERSION, '--version', 'print the release version');

withBootstrapFlags(
  program
    .command('bootstrap')
    .description('print (or write) the proxy bootstrap as Envoy v3 JSON')
    .option('-o, --output <file>', 'write to this file instead of stdout'),
).action((flags: BootstrapFlags & { output?: string }) => {
  const json = `${JSON.stringify(buildBootstrap(bootstrapOptionsFromFlags(flags)), null, 2)}\n`;
  if (flags.output) writeFileSync(flags.output, json);
  else process.stdout.write(json);
});

program.parse();
