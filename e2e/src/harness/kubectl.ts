/**
 * The real kubectl the cluster scripts build ($SKEIN_CACHE/k8s-<version>/bin/kubectl, or
 * $SKEIN_KUBECTL), run against the suite's cluster: for what users see, e.g. the message of a
 * refused `kubectl apply`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SKEIN_CACHE, type Cluster } from './cluster.js';
import { runCommand, type CommandResult } from './run-command.js';

export function kubectlBinary(): string {
  const fromEnv = process.env['SKEIN_KUBECTL'];
  if (fromEnv) return fromEnv;
  const dirs = existsSync(SKEIN_CACHE)
    ? readdirSync(SKEIN_CACHE)
        .filter((d) => d.startsWith('k8s-'))
        .sort()
        .reverse()
    : [];
  const found = dirs.map((d) => join(SKEIN_CACHE, d, 'bin', 'kubectl')).find((p) => existsSync(p));
  if (!found) throw new Error(`no kubectl under ${SKEIN_CACHE}/k8s-*/bin: run \`npm run cluster:up\``);
  return found;
}

export function kubectl(cluster: Cluster, args: readonly string[], stdin = ''): Promise<CommandResult> {
  return runCommand(kubectlBinary(), ['--kubeconfig', cluster.kubeconfigPath, ...args], stdin);
}
