// skeinctl kube-inject: the sidecar injector of skeind applied to workload YAML offline, like
// `istioctl kube-inject` — Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, Pods (and Lists)
// get the sidecar in their pod template; everything else is printed unchanged.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { SKEIN_VERSION } from '@skein/api-types';
// The injector (all of @skein/control-plane) loads when the command runs, not for --help.
import type * as ControlPlaneModule from '@skein/control-plane';
import type { InjectorConfig } from '@skein/control-plane';

type ControlPlane = typeof ControlPlaneModule;

interface Options {
  filename: string;
  output?: string;
  proxyImage?: string;
  discoveryAddress?: string;
  meshConfig?: string;
  policy: string;
}

/** A MeshConfig file, or a ConfigMap holding one under `data.mesh` (as `kubectl get cm istio -o yaml`). */
function readMesh(
  cp: ControlPlane,
  file: string,
): Pick<InjectorConfig, 'trustDomain' | 'defaultProxyConfig'> {
  let doc: unknown = parse(readFileSync(file, 'utf8'));
  const data = (doc as { kind?: string; data?: { mesh?: string } } | null)?.data;
  if ((doc as { kind?: string } | null)?.kind === 'ConfigMap') doc = parse(data?.mesh ?? '');
  const r = cp.meshConfigFrom(doc);
  if (!r.ok) throw new Error(`${file}: ${r.problems.join('; ')}`);
  return { trustDomain: r.config.trustDomain, defaultProxyConfig: r.config.defaultConfig };
}

export function registerKubeInject(program: Command): void {
  program
    .command('kube-inject')
    .description(
      'Add the Skein sidecar to the pod templates of Kubernetes workload YAML (as the injection webhook would) and print the result',
    )
    .requiredOption('-f, --filename <file>', "workload YAML (multi-document); '-' reads stdin")
    .option('-o, --output <file>', 'write here instead of stdout')
    .option(
      '--proxy-image <image>',
      `image of the init step and the sidecar (default: the injector's, skein/proxy:${SKEIN_VERSION})`,
    )
    .option(
      '--discovery-address <host:port>',
      "skeind's TLS address (certificates and xDS) as the pods reach it (default: the injector's, skeind.skein-system.svc:15012)",
    )
    .option('--mesh-config <file>', 'MeshConfig (or the istio ConfigMap) for trustDomain and defaultConfig')
    .option(
      '--policy <policy>',
      'enabled: inject unless a pod says sidecar.istio.io/inject: "false"; disabled: only pods that say "true"',
      'enabled',
    )
    .action(async (o: Options) => {
      if (o.policy !== 'enabled' && o.policy !== 'disabled')
        throw new Error(`--policy: want enabled or disabled, got ${o.policy}`);
      const cp = await import('@skein/control-plane');
      const defaults = cp.DEFAULT_INJECTOR_CONFIG;
      const config: InjectorConfig = {
        ...defaults,
        ...(o.meshConfig ? readMesh(cp, o.meshConfig) : {}),
        proxyImage: o.proxyImage ?? defaults.proxyImage,
        discoveryAddress: o.discoveryAddress ?? defaults.discoveryAddress,
        policy: o.policy,
      };
      const input = readFileSync(o.filename === '-' ? 0 : o.filename, 'utf8');
      const out = cp.kubeInject(input, config);
      if (o.output) writeFileSync(o.output, out);
      else process.stdout.write(out);
    });
}
