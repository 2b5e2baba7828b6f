// skeinctl install / uninstall: put Skein on a Kubernetes cluster with one command (and take it
// off again), as `istioctl install` / `istioctl uninstall` do — flags, confirmation and output.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { SKEIN_VERSION } from '@skein/api-types';
import type { ClusterApi } from '../install/cluster-api.js';
import { install } from '../install/install.js';
import { defaultManifestsDir, loadManifests, type SkeinManifests } from '../install/manifests.js';
import { customize, imagesOf, skeindDeployment, uninstallPlan } from '../install/plan.js';
import { parseDuration } from '../install/status.js';
import { uninstall } from '../install/uninstall.js';

interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  manifests: string;
  timeout: string;
  wait: boolean;
  yes?: boolean;
}

interface InstallFlags extends ClusterFlags {
  skeindImage?: string;
  proxyImage?: string;
  restart?: boolean;
  dryRun?: boolean;
}

interface UninstallFlags extends ClusterFlags {
  purge?: boolean;
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** The Kubernetes client (and @kubernetes/client-node) loads when a command runs, not for --help. */
async function connect(f: ClusterFlags): Promise<ClusterApi> {
  const { connectCluster } = await import('../install/cluster-api.js');
  return connectCluster({ kubeconfig: f.kubeconfig, context: f.context });
}

function clusterOptions(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', "the kubeconfig context to use (default: the kubeconfig's current context)")
    .option('--manifests <dir>', "Skein's manifests (crds/ and control-plane/)", defaultManifestsDir())
    .option(
      '--timeout <duration>',
      'how long the whole command may take, waits included (e.g. 90s, 5m)',
      '5m',
    )
    .option('--no-wait', 'return once everything is applied (or deleted), without waiting')
    .option('-y, --yes', 'do not ask for confirmation');
}

/** True when the user said yes; without a terminal, -y is required. */
async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY)
    throw new Error('no terminal to confirm on: pass -y to proceed without confirmation');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = (await rl.question(`${question} Proceed? (y/N) `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new Error('cancelled');
  } finally {
    rl.close();
  }
}

export function registerInstall(program: Command): void {
  clusterOptions(
    program
      .command('install')
      .description(
        'Install (or upgrade) Skein on a Kubernetes cluster: the Istio CRDs, skeind in skein-system with its RBAC, and the injection and validation webhooks, applied server-side (field manager skeinctl); then wait for skeind to be available and enforcing validation',
      ),
  )
    .option(
      '--skeind-image <image>',
      `skeind's image (default: the manifest's, skein/skeind:${SKEIN_VERSION})`,
    )
    .option(
      '--proxy-image <image>',
      `the sidecar image skeind injects (default: the manifest's, skein/proxy:${SKEIN_VERSION})`,
    )
    .option(
      '--restart',
      "roll skeind's pod even if nothing changed (e.g. an image rebuilt under the same tag)",
    )
    .option('--dry-run', 'print the YAML that would be applied; apply nothing')
    .action(async (f: InstallFlags) => {
      const timeoutMs = parseDuration(f.timeout);
      const m: SkeinManifests = customize(loadManifests(f.manifests), {
        skeindImage: f.skeindImage,
        proxyImage: f.proxyImage,
        restartedAt: f.restart ? new Date().toISOString() : undefined,
      });
      if (f.dryRun) {
        const docs = [...m.crds, ...m.controlPlane, ...m.webhooks].map((o) => stringify(o, { lineWidth: 0 }));
        process.stdout.write(docs.map((d) => `---\n${d}`).join(''));
        return;
      }
      const api = await connect(f);
      const images = imagesOf(skeindDeployment(m));
      await confirm(
        `This installs Skein ${SKEIN_VERSION} (skeind ${images.skeind}) into the cluster ${api.server} (context ${api.context}).`,
        f.yes,
      );
      await install(api, m, { timeoutMs, wait: f.wait, out });
    });

  clusterOptions(
    program
      .command('uninstall')
      .description(
        'Remove Skein from a Kubernetes cluster: the webhook configurations, skeind and its RBAC; with --purge also the skein-system namespace (the mesh CA) and the Istio CRDs with all mesh configuration',
      ),
  )
    .option(
      '--purge',
      'also delete the skein-system namespace and the CRDs (and every object of their kinds)',
    )
    .action(async (f: UninstallFlags) => {
      const timeoutMs = parseDuration(f.timeout);
      const plan = uninstallPlan(loadManifests(f.manifests), f.purge === true);
      const api = await connect(f);
      await confirm(
        `All Skein resources will be removed from the cluster ${api.server} (context ${api.context})${
          f.purge ? ', including the CRDs and every VirtualService, DestinationRule, ... stored in them' : ''
        }.`,
        f.yes,
      );
      await uninstall(api, plan, { timeoutMs, wait: f.wait, out });
    });
}
