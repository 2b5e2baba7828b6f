// Proves the lint rules that keep packages apart actually fire: each case is a source text
// linted as if it stood at the given path.
import { ESLint } from 'eslint';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const eslint = new ESLint({ cwd: root });

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('module boundaries', () => {
  it('forbids the proxy from importing the control plane', async () => {
    const msgs = await ruleIds(
      'packages/proxy/src/boundary-fixture.ts',
      "import { x } from '@skein/control-plane';\nexport const y = x;\n",
    );
    expect(msgs.join('\n')).toMatch(/@nx\/enforce-module-boundaries/);
  });

  it("forbids reaching into another package's internals by relative path", async () => {
    const msgs = await ruleIds(
      'packages/agent/src/boundary-fixture.ts',
      "import { x } from '../../ca/src/internal.js';\nexport const y = x;\n",
    );
    expect(msgs.join('\n')).toMatch(/@nx\/enforce-module-boundaries/);
  });

  it('forbids api-types from depending on any other package', async () => {
    const msgs = await ruleIds(
      'packages/api-types/src/boundary-fixture.ts',
      "import { x } from '@skein/ca';\nexport const y = x;\n",
    );
    expect(msgs.join('\n')).toMatch(/@nx\/enforce-module-boundaries/);
  });

  it('forbids I/O imports in the pure translation core', async () => {
    const msgs = await ruleIds(
      'packages/control-plane/src/translate/boundary-fixture.ts',
      "import { readFileSync } from 'node:fs';\nexport const y = readFileSync;\n",
    );
    expect(msgs.join('\n')).toMatch(/no-restricted-imports/);
  });

  it('allows the CLI to use every package through its entry point', async () => {
    const msgs = await ruleIds(
      'packages/cli/src/boundary-fixture.ts',
      "import { SKEIN_VERSION } from '@skein/api-types';\nexport const y = SKEIN_VERSION;\n",
    );
    expect(msgs).toEqual([]);
  });
});
