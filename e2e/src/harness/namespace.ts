/**
 * One namespace per suite, with a unique name, labelled as the e2e suite's (plus the suite's own
 * labels, e.g. istio-injection=enabled); on a failed test
 * its diagnostics are collected, and it is deleted afterwards (kept when SKEIN_E2E_KEEP=1).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Cluster } from './cluster.js';
import { collectDiagnostics } from './diagnostics.js';

export interface TestNamespace {
  /** Valid once beforeAll ran. */
  readonly name: string;
}

export function useNamespace(
  cluster: () => Cluster,
  prefix: string,
  labels: Record<string, string> = {},
): TestNamespace {
  const ns = { name: `${prefix}-${randomBytes(3).toString('hex')}` };
  beforeAll(async () => {
    await cluster().core.createNamespace({
      body: { metadata: { name: ns.name, labels: { ...labels, 'skein.dev/e2e': 'true' } } },
    });
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') {
      const dir = await collectDiagnostics(cluster(), ns.name, ctx.task.name);
      console.error(`diagnostics for "${ctx.task.name}" in ${dir}`);
    }
  });
  afterAll(async () => {
    if (process.env['SKEIN_E2E_KEEP'] === '1') return;
    await cluster()
      .core.deleteNamespace({ name: ns.name })
      .catch(() => undefined);
  });
  return ns;
}
