// skeinctl kube-inject: the sidecar injector of skeind applied to workload YAML offline, like
// `istioctl kube-inject` — Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, Pods (and Lists)
// get the sidecar in their pod template; everything else is printed unchanged.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'yaml';
import {
  DEFAULT_INJECTOR_CONFIG,
  kubeInject,
  meshConfigFrom,
  type InjectorConfig,
} from '@skein/control-plane';

interface Options {
  filename: string;
  output?: string;
  proxyImage: string;
  discoveryAddress: string;
  meshConfig?: string;
  policy: string;
}

/** A MeshConfig file, or a ConfigMap holding one under `data.mesh` (as `kubectl get cm istio -o yaml`). */
function readMesh(file: string): Pick<InjectorConfig, 'trustDomain' | 'defaultProxyConfig'> {
  let doc: unknown = parse(readFileSync(file, 'utf8'));
  const data = (doc as { kind?: string; data?: { mesh?: string } } | null)?.data;
  if ((doc as { kind?: string } | null)?.kind === 'ConfigMap') doc = parse(data?.mesh ?? '');
  const r = meshConfigFrom(doc);
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
      'image of the init step and the sidecar',
      DEFAULT_INJECTOR_CONFIG.proxyImage,
    )
    .option(
      '--discovery-address <host:port>',
      "skeind's TLS address (certificates and xDS) as the pods reach it",
      DEFAULT_INJECTOR_CONFIG.discoveryAddress,
    )
    .option('--mesh-config <file>', 'MeshConfig (or the istio ConfigMap) for trustDomain and defaultConfig')
    .option(
      '--policy <policy>',
      'enabled: inject unless a pod says sidecar.istio.io/inject: "false"; disabled: only pods that say "true"',
      'enabled',
    )
    .action((o: Options) => {
      if (o.policy !== 'enabled' && o.policy !== 'disabled')
        throw new Error(`--policy: want enabled or disabled, got ${o.policy}`);
      const config: InjectorConfig = {
        ...DEFAULT_INJECTOR_CONFIG,
        ...(o.meshConfig ? readMesh(o.meshConfig) : {}),
        proxyImage: o.proxyImage,
        discoveryAddress: o.discoveryAddress,
        policy: o.policy,
      };
      const input = readFileSync(o.filename === '-' ? 0 : o.filename, 'utf8');
      const out = kubeInject(input, config);
      if (o.output) writeFileSync(o.output, out);
      else process.stdout.write(out);
    });
}
