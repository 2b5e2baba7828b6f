// Entry point of skein-agent: every flag of every subcommand, with its default and description.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { SKEIN_VERSION, parseDuration } from '@skein/api-types';
import { spiffeId } from '@skein/ca';
import { buildBootstrap } from './bootstrap/build-bootstrap.js';
import { bootstrapOptionsFromFlags, isSkeinProxy, type BootstrapFlags } from './bootstrap/bootstrap-flags.js';
import { runAgent } from './lifecycle/run-agent.js';
import { waitForReady } from './lifecycle/wait.js';
import type { AppProbers } from './status/app-probes.js';
import { applyIptables, cleanupIptables, familyAvailable } from './iptables/apply-iptables.js';
import { processRunner } from './iptables/command-runner.js';
import {
  DEFAULT_IPTABLES_CONFIG as IPT,
  list,
  nameservers,
  type IptablesConfig,
} from './iptables/iptables-config.js';
import { iptablesSave } from './iptables/iptables-rules.js';

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
    .option(
      '--vhds',
      'sidecars: delta ADS with VHDS (node metadata SKEIN_VHDS), virtual hosts as their own resources; ' +
        'routers and proxies other than skein-proxy always use state-of-the-world ADS (env SKEIN_VHDS)',
      env['SKEIN_VHDS'] !== 'false',
    )
    .option('--no-vhds', 'state-of-the-world ADS with whole route configurations (env SKEIN_VHDS=false)')
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

interface ProxyFlags extends BootstrapFlags {
  configPath: string;
  proxyBinary: string;
  proxyArg: string[];
  caAddress?: string;
  caRootCert: string;
  caServerName?: string;
  tokenFile?: string;
  bootstrapToken?: string;
  trustDomain: string;
  certTtl: string;
  statusAddress: string;
  appProbers?: string;
  appMetricsUrl?: string;
  terminationDrainDuration: string;
  exitOnZeroActiveConnections: boolean;
  xdsRelay: boolean;
  xdsRelaySocket: string;
  dnsCapture: boolean;
  dnsAddress: string;
  dnsPort: string;
  dnsUpstreams?: string;
}

/** Istio's ISTIO_PROMETHEUS_ANNOTATIONS ({"scrape":"true","port":"8080","path":"/metrics"}) → a scrape URL. */
function appMetricsFromAnnotations(json: string | undefined, ip: string | undefined): string | undefined {
  if (!json) return undefined;
  const a = JSON.parse(json) as { scrape?: string; port?: string; path?: string; scheme?: string };
  if (a.scrape !== 'true' || !a.port) return undefined;
  return `${a.scheme ?? 'http'}://${ip ?? '127.0.0.1'}:${a.port}${a.path ?? '/metrics'}`;
}

const defaultProxyBinary = fileURLToPath(new URL('../../../bin/skein-proxy', import.meta.url));

withBootstrapFlags(
  program
    .command('proxy')
    .description(
      'run the sidecar: certificates over SDS, status server, the proxy child process; exit with it',
    )
    .option('--config-path <file>', 'where to write the bootstrap', './etc/skein/proxy/envoy-rev.json')
    .option(
      '--proxy-binary <path>',
      'the proxy to run (env SKEIN_PROXY_BIN)',
      env['SKEIN_PROXY_BIN'] ?? defaultProxyBinary,
    )
    .option('--proxy-arg <arg>', 'extra argument for the proxy (repeatable)', collect, [] as string[])
    .option(
      '--ca-address <host:port>',
      'CA (skein-ca or skeind) TLS gRPC address; none: no SDS (env CA_ADDR)',
      env['CA_ADDR'],
    )
    .option(
      '--ca-root-cert <file>',
      'mesh root certificate that signs the CA serving certificate',
      './var/run/secrets/istio/root-cert.pem',
    )
    .option('--ca-server-name <sni>', 'TLS name to verify on the CA (default: its host)')
    .option(
      '--token-file <file>',
      'service-account or bootstrap token file sent to the CA',
      './var/run/secrets/tokens/istio-token',
    )
    .option(
      '--bootstrap-token <token>',
      'a bootstrap token for directory-mode CAs (env SKEIN_BOOTSTRAP_TOKEN)',
      env['SKEIN_BOOTSTRAP_TOKEN'],
    )
    .option('--trust-domain <td>', 'trust domain of the requested SPIFFE identity', 'cluster.local')
    .option('--cert-ttl <duration>', 'requested workload certificate TTL', '24h')
    .option('--status-address <ip>', 'status server address (probes, merged metrics, readiness)', '0.0.0.0')
    .option(
      '--app-probers <json>',
      'rewritten app probes (env ISTIO_KUBE_APP_PROBERS)',
      env['ISTIO_KUBE_APP_PROBERS'],
    )
    .option(
      '--app-metrics-url <url>',
      'app metrics merged into /stats/prometheus (default: from ISTIO_PROMETHEUS_ANNOTATIONS)',
      appMetricsFromAnnotations(env['ISTIO_PROMETHEUS_ANNOTATIONS'], env['INSTANCE_IP']),
    )
    .option(
      '--termination-drain-duration <duration>',
      'drain time on SIGTERM (env TERMINATION_DRAIN_DURATION)',
      env['TERMINATION_DRAIN_DURATION'] ?? '5s',
    )
    .option('--exit-on-zero-active-connections', 'stop draining as soon as no connection remains', false)
    .option(
      '--xds-relay',
      "relay the proxy's xDS through the agent (TLS to skeind with --discovery-tls)",
      false,
    )
    .option(
      '--xds-relay-socket <path>',
      "the relay's Unix socket (the proxy's xds-grpc)",
      './etc/istio/proxy/XDS',
    )
    .option(
      '--dns-capture',
      'run the DNS proxy (env ISTIO_META_DNS_CAPTURE=true)',
      env['ISTIO_META_DNS_CAPTURE'] === 'true',
    )
    .option('--dns-address <ip>', 'DNS proxy address', '127.0.0.1')
    .option('--dns-port <port>', 'DNS proxy port (UDP and TCP)', '15053')
    .option('--dns-upstreams <list>', 'resolvers for non-mesh names (default: /etc/resolv.conf)'),
).action(async (f: ProxyFlags) => {
  const bootstrap = bootstrapOptionsFromFlags({
    ...f,
    vhds: f.vhds !== false && isSkeinProxy(f.proxyBinary),
  });
  const log = (msg: string, fields?: Record<string, unknown>) =>
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), scope: 'agent', msg, ...fields })}\n`,
    );
  const agent = await runAgent({
    bootstrap,
    bootstrapPath: f.configPath,
    proxyCommand: f.proxyBinary,
    proxyArgs: f.proxyArg,
    ...(f.caAddress && f.caAddress !== 'none'
      ? {
          ca: {
            address: f.caAddress,
            rootCertPem: readFileSync(f.caRootCert, 'utf8'),
            ...(f.caServerName ? { serverName: f.caServerName } : {}),
            ...(f.bootstrapToken
              ? { token: f.bootstrapToken }
              : f.tokenFile
                ? { tokenFile: f.tokenFile }
                : {}),
            clusterId: f.clusterId,
            identity: spiffeId({
              trustDomain: f.trustDomain,
              namespace: f.namespace,
              serviceAccount: f.serviceAccount,
            }),
            ttlSeconds: Math.round(parseDuration(f.certTtl) / 1000),
          },
        }
      : {}),
    status: {
      host: f.statusAddress,
      port: Number(f.agentPort),
      ...(f.appProbers ? { probers: JSON.parse(f.appProbers) as AppProbers } : {}),
      appHost: f.podIp,
      ...(f.appMetricsUrl ? { appMetricsUrl: f.appMetricsUrl } : {}),
    },
    ...(f.dnsCapture && !('unixSocket' in bootstrap.discovery)
      ? {
          dns: {
            host: f.dnsAddress,
            port: Number(f.dnsPort),
            upstreams: f.dnsUpstreams
              ? list(f.dnsUpstreams)
              : nameservers(readFileSync('/etc/resolv.conf', 'utf8')),
            // Through the relay when there is one (it carries TLS), else straight to skeind.
            xdsAddress: f.xdsRelay
              ? `unix:${f.xdsRelaySocket}`
              : `${bootstrap.discovery.host}:${bootstrap.discovery.port}`,
          },
        }
      : {}),
    ...(f.xdsRelay && !('unixSocket' in bootstrap.discovery)
      ? {
          xdsRelay: {
            socketPath: f.xdsRelaySocket,
            upstream: `${bootstrap.discovery.host}:${bootstrap.discovery.port}`,
            tls: f.discoveryTls === true,
            ...(f.discoveryServerName ? { serverName: f.discoveryServerName } : {}),
          },
        }
      : {}),
    drainDurationMs: parseDuration(f.terminationDrainDuration),
    exitOnZeroActiveConnections: f.exitOnZeroActiveConnections,
    log,
  });
  const onSignal = () => void agent.terminate();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  process.exit(await agent.done);
});

program
  .command('wait')
  .description('wait until the proxy is ready (for holding the application until then)')
  .option('--url <url>', 'readiness URL', 'http://localhost:15021/healthz/ready')
  .option('--timeout <duration>', 'give up after', '60s')
  .option('--period <duration>', 'poll period', '500ms')
  .action(async (f: { url: string; timeout: string; period: string }) => {
    const ok = await waitForReady({
      url: f.url,
      timeoutMs: parseDuration(f.timeout),
      periodMs: parseDuration(f.period),
    });
    process.stderr.write(
      ok ? 'skein-agent: proxy is ready\n' : `skein-agent: proxy not ready after ${f.timeout}\n`,
    );
    process.exit(ok ? 0 : 1);
  });

program
  .command('iptables')
  .description('the init step: install the traffic capture rules (istio-iptables flags)')
  .option('-p, --envoy-port <port>', 'outbound capture port', String(IPT.proxyPort))
  .option('-z, --inbound-capture-port <port>', 'inbound capture port', String(IPT.inboundCapturePort))
  .option('-u, --proxy-uid <uids>', 'UIDs never captured (comma-separated)', IPT.proxyUids.join(','))
  .option('-g, --proxy-gid <gids>', 'GIDs never captured (comma-separated)', IPT.proxyGids.join(','))
  .addOption(
    new Option(
      '-m, --inbound-interception-mode <mode>',
      'inbound capture: REDIRECT (nat) or TPROXY (mangle + policy route; the proxy listens transparently)',
    )
      .choices(['REDIRECT', 'TPROXY'])
      .default('REDIRECT'),
  )
  .option(
    '-t, --inbound-tproxy-mark <mark>',
    'TPROXY: mark of diverted inbound packets',
    String(IPT.inboundTproxyMark),
  )
  .option(
    '-r, --inbound-tproxy-route-table <table>',
    'TPROXY: routing table delivering marked packets locally',
    String(IPT.inboundTproxyRouteTable),
  )
  .option('-i, --outbound-ip-ranges-include <cidrs>', "outbound CIDRs captured ('*' all)", '*')
  .option('-x, --outbound-ip-ranges-exclude <cidrs>', 'outbound CIDRs never captured', '')
  .option('-b, --inbound-ports-include <ports>', "inbound ports captured ('*' all)", '*')
  .option(
    '-d, --inbound-ports-exclude <ports>',
    "inbound ports never captured (with '*')",
    IPT.excludeInboundPorts.join(','),
  )
  .option('-o, --outbound-ports-exclude <ports>', 'outbound ports never captured', '')
  .option('-q, --outbound-ports-include <ports>', 'outbound ports always captured', '')
  .option('-c, --exclude-interfaces <ifaces>', 'interfaces whose traffic is never captured, in or out', '')
  .option(
    '-k, --kube-virt-interfaces <ifaces>',
    "VM interfaces whose inbound traffic is captured as outbound (to the outbound port, for -i's CIDRs)",
    '',
  )
  .option('--redirect-dns', 'capture DNS (port 53) to the agent DNS proxy', false)
  .option('--dns-servers <ips>', 'resolvers whose DNS is captured (default: /etc/resolv.conf)')
  .option('--dns-port <port>', 'agent DNS proxy port', String(IPT.dnsPort))
  .option('--ipv4-only', 'do not configure IPv6', false)
  .option('-n, --dry-run', 'print the rules in iptables-save form instead of installing them', false)
  .option('--cleanup', 'remove the rules and chains this command installs', false)
  .action(async (f: Record<string, string | boolean>) => {
    const s = (k: string) => String(f[k] ?? '');
    const config: IptablesConfig = {
      ...IPT,
      proxyPort: Number(s('envoyPort')),
      inboundCapturePort: Number(s('inboundCapturePort')),
      mode: s('inboundInterceptionMode') === 'TPROXY' ? 'TPROXY' : 'REDIRECT',
      inboundTproxyMark: Number(s('inboundTproxyMark')),
      inboundTproxyRouteTable: Number(s('inboundTproxyRouteTable')),
      proxyUids: list(s('proxyUid')),
      proxyGids: list(s('proxyGid')),
      includeOutboundCidrs: list(s('outboundIpRangesInclude')),
      excludeOutboundCidrs: list(s('outboundIpRangesExclude')),
      includeInboundPorts: list(s('inboundPortsInclude')),
      excludeInboundPorts: list(s('inboundPortsExclude')),
      excludeOutboundPorts: list(s('outboundPortsExclude')),
      includeOutboundPorts: list(s('outboundPortsInclude')),
      excludeInterfaces: list(s('excludeInterfaces')),
      kubeVirtInterfaces: list(s('kubeVirtInterfaces')),
      captureDns: f['redirectDns'] === true,
      dnsServers:
        f['dnsServers'] !== undefined
          ? list(s('dnsServers'))
          : f['redirectDns'] === true
            ? nameservers(readFileSync('/etc/resolv.conf', 'utf8'))
            : [],
      dnsPort: Number(s('dnsPort')),
    };
    const families: (4 | 6)[] = f['ipv4Only'] === true ? [4] : [4, 6];
    if (f['dryRun'] === true) {
      for (const fam of families) {
        process.stdout.write(`# ${fam === 4 ? 'iptables' : 'ip6tables'}-save\n${iptablesSave(config, fam)}`);
      }
      return;
    }
    const run = processRunner();
    if (f['cleanup'] === true) {
      for (const fam of families)
        if (await familyAvailable(run, fam)) await cleanupIptables(run, fam, config);
      process.stderr.write('skein-agent: iptables rules removed\n');
      return;
    }
    const done = await applyIptables(run, config, families);
    process.stderr.write(`skein-agent: iptables rules installed for IPv${done.join(' and IPv')}\n`);
  });

await program.parseAsync();
