import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TokensFileAuthenticator } from './tokens-file.js';

const dir = mkdtempSync(join(tmpdir(), 'skein-tokens-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bearer = (t: string) => ({ metadata: { authorization: `Bearer ${t}` } });
/** Atomic replace, as editors and config managers write. */
const write = (path: string, text: string) => {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
};

describe('TokensFileAuthenticator', () => {
  it('picks up tokens added to the file, and keeps the old ones when the file breaks', async () => {
    const path = join(dir, 'tokens');
    write(path, 'tok-a demo a\n');
    const errors: string[] = [];
    const auth = await new TokensFileAuthenticator(path, 'cluster.local', (m) => errors.push(m)).load();
    expect((await auth.authenticate(bearer('tok-a')))?.identity).toBe('spiffe://cluster.local/ns/demo/sa/a');
    expect(await auth.authenticate(bearer('tok-b'))).toBeUndefined();

    write(path, 'tok-a demo a\ntok-b demo b\n');
    expect((await auth.authenticate(bearer('tok-b')))?.identity).toBe('spiffe://cluster.local/ns/demo/sa/b');

    write(path, 'this line is not three fields\n');
    expect((await auth.authenticate(bearer('tok-b')))?.identity).toBe('spiffe://cluster.local/ns/demo/sa/b');
    await auth.authenticate(bearer('tok-b'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /line 1: expected "<token> <namespace> <service-account>"; keeping the previous tokens/,
    );

    write(path, 'tok-c demo c\n');
    expect(await auth.authenticate(bearer('tok-a'))).toBeUndefined();
    expect((await auth.authenticate(bearer('tok-c')))?.identity).toBe('spiffe://cluster.local/ns/demo/sa/c');
  });

  it('fails at load when the file is unreadable', async () => {
    await expect(new TokensFileAuthenticator(join(dir, 'missing'), 'cluster.local').load()).rejects.toThrow(
      /ENOENT/,
    );
  });
});
