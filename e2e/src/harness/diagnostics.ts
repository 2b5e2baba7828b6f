/**
 * What a failed e2e test leaves behind for whoever reads CI's output: every pod's status and
 * the logs of each of its containers (previous instance too), the namespace's events, and for
 * pods with a proxy the proxy's `/config_dump` from its admin port (15000), fetched through a
 * port-forward. Written to $SKEIN_E2E_ARTIFACTS (default e2e/.artifacts)/<label>/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Cluster } from './cluster.js';
import { portForward } from './port-forward.js';

export const ARTIFACTS_DIR =
  process.env['SKEIN_E2E_ARTIFACTS'] ?? join(import.meta.dirname, '..', '..', '.artifacts');
const PROXY_CONTAINERS = new Set(['skein-proxy', 'istio-proxy']);
const PROXY_ADMIN_PORT = 15000;

export async function collectDiagnostics(
  cluster: Cluster,
  namespace: string,
  label: string,
): Promise<string> {
  const dir = join(ARTIFACTS_DIR, label.replace(/[^a-zA-Z0-9._-]+/g, '_'), namespace);
  await mkdir(dir, { recursive: true });
  const notes: string[] = [];
  const pods = await cluster.core.listNamespacedPod({ namespace }).then(
    (l) => l.items,
    (e: Error) => {
      notes.push(`list pods: ${e.message}`);
      return [] as V1Pod[];
    },
  );
  for (const pod of pods) {
    const name = pod.metadata?.name ?? 'unknown';
    await writeFile(join(dir, `${name}.status.json`), JSON.stringify(pod.status ?? {}, null, 2));
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map(
      (c) => c.name,
    );
    for (const container of containers) {
      for (const previous of [false, true]) {
        try {
          const log = await cluster.core.readNamespacedPodLog({
            name,
            namespace,
            container,
            previous,
            tailLines: 2000,
          });
          await writeFile(join(dir, `${name}.${container}${previous ? '.previous' : ''}.log`), log);
        } catch (err) {
          if (!previous) notes.push(`${name}/${container} logs: ${(err as Error).message}`);
        }
      }
      if (PROXY_CONTAINERS.has(container) && pod.status?.phase === 'Running') {
        try {
          await writeFile(
            join(dir, `${name}.config_dump.json`),
            await proxyConfigDump(cluster, namespace, name),
          );
        } catch (err) {
          notes.push(`${name} config_dump: ${(err as Error).message}`);
        }
      }
    }
  }
  try {
    const events = await cluster.core.listNamespacedEvent({ namespace });
    const lines = events.items.map(
      (e) =>
        `${e.lastTimestamp?.toISOString() ?? ''} ${e.type ?? ''} ${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''} ${e.reason ?? ''}: ${e.message ?? ''}`,
    );
    await writeFile(join(dir, 'events.txt'), `${lines.join('\n')}\n`);
  } catch (err) {
    notes.push(`events: ${(err as Error).message}`);
  }
  if (notes.length > 0) await writeFile(join(dir, 'collection-errors.txt'), `${notes.join('\n')}\n`);
  return dir;
}

export async function proxyConfigDump(cluster: Cluster, namespace: string, pod: string): Promise<string> {
  const forward = await portForward(cluster, namespace, pod, PROXY_ADMIN_PORT);
  try {
    return await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: forward.localPort, path: '/config_dump', timeout: 10_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  } finally {
    await forward.close();
  }
}
