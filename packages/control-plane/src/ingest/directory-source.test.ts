import { mkdir, mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigStore } from './config-store.js';
import { DirectorySource } from './directory-source.js';
import { meshValidator, type Problem } from './validation.js';

const vs = (name: string, host: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: default }
spec:
  hosts: [${host}]
  http:
  - route:
    - destination: { host: ${host} }
`;

describe('DirectorySource', () => {
  let dir: string;
  let store: ConfigStore;
  let source: DirectorySource;
  let problems: Problem[];
  let scanWaiters: (() => void)[];
  let looked: ('all' | 'named')[];

  /**
   * Resolves once `cond` holds: at once, or after the scan that makes it hold. (Checking only on
   * later scans hung when the scan had already run before the test got here, as on a loaded
   * machine, with no further file event to cause another.)
   */
  const until = (cond: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (cond()) resolve();
        else scanWaiters.push(check);
      };
      check();
    });
  const names = (): string[] => store.list().map((o) => o.metadata.name);

  /** A source over `dir` and `store` that records problems and scans; `options` override. */
  const newSource = (
    options: Partial<ConstructorParameters<typeof DirectorySource>[0]> = {},
  ): DirectorySource =>
    new DirectorySource({
      dir,
      store,
      validate: meshValidator,
      onProblem: (p) => problems.push(p),
      settleMs: 20,
      resyncMs: 0,
      onScan: (_generation, how) => {
        looked.push(how);
        const w = scanWaiters;
        scanWaiters = [];
        for (const f of w) f();
      },
      ...options,
    });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-dir-'));
    store = new ConfigStore();
    problems = [];
    scanWaiters = [];
    looked = [];
    source = newSource();
  });
  afterEach(async () => {
    await source.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads multi-document files and follows create, edit, rename and delete', async () => {
    await writeFile(join(dir, 'a.yaml'), `${vs('one', 'a')}---\n${vs('two', 'b')}`);
    await source.start();
    expect(names()).toEqual(['one', 'two']);

    await writeFile(join(dir, 'b.yml'), vs('three', 'c'));
    await until(() => names().includes('three'));

    await writeFile(join(dir, 'a.yaml'), vs('one', 'z'));
    await until(() => !names().includes('two'));
    expect((store.get('VirtualService/default/one')?.spec as { hosts: string[] }).hosts).toEqual(['z']);

    await rename(join(dir, 'b.yml'), join(dir, 'renamed.yaml'));
    await until(() => names().includes('three') && source.generation > 0);
    expect(names()).toEqual(['one', 'three']);

    await rm(join(dir, 'renamed.yaml'));
    await until(() => !names().includes('three'));
    expect(names()).toEqual(['one']);
  });

  it('follows a file replaced by rename again and again (atomic saves) and subdirectories', async () => {
    await writeFile(join(dir, 'a.yaml'), vs('one', 'h0'));
    await source.start();
    const host = (): string | undefined =>
      (store.get('VirtualService/default/one')?.spec as { hosts: string[] }).hosts[0];
    for (let i = 1; i <= 3; i++) {
      await writeFile(join(dir, 'a.yaml.tmp'), vs('one', `h${i}`));
      await rename(join(dir, 'a.yaml.tmp'), join(dir, 'a.yaml'));
      await until(() => host() === `h${i}`);
    }
    await mkdir(join(dir, 'sub'));
    await until(() => source.generation > 0);
    await writeFile(join(dir, 'sub', 'b.yaml'), vs('two', 'x'));
    await until(() => names().includes('two'));
  });

  it('sees a same-sized save that kept the same time stamp (file times tick coarsely)', async () => {
    const file = join(dir, 'a.yaml');
    await writeFile(file, vs('one', 'h1'));
    await source.start();
    const host = (): string | undefined =>
      (store.get('VirtualService/default/one')?.spec as { hosts: string[] }).hosts[0];
    expect(host()).toBe('h1');
    // A stamp in whole milliseconds (so the one put back compares equal), a moment ago.
    const stamp = new Date(Date.now() - 100);
    await utimes(file, stamp, stamp);
    await until(() => source.generation > 1);
    // The same size, in place, then the old stamp put back: only the text tells them apart.
    await writeFile(file, vs('one', 'h2'));
    await utimes(file, stamp, stamp);
    await until(() => host() === 'h2');
  });

  it('keeps the previous objects of a file that does not parse (a partial write)', async () => {
    await writeFile(join(dir, 'a.yaml'), vs('one', 'a'));
    await source.start();
    const half = vs('one', 'b').slice(0, 60) + '\n  http: [ {';
    await writeFile(join(dir, 'a.yaml'), half);
    await until(() => problems.some((p) => p.reason.startsWith('YAML')));
    expect((store.get('VirtualService/default/one')?.spec as { hosts: string[] }).hosts).toEqual(['a']);
    await writeFile(join(dir, 'a.yaml'), vs('one', 'c'));
    await until(
      () => (store.get('VirtualService/default/one')?.spec as { hosts: string[] }).hosts[0] === 'c',
    );
  });

  it('tells what a change will bring while it settles, and applies only what settled', async () => {
    const previews: string[][] = [];
    const host = (o: { spec?: unknown } | undefined): string | undefined =>
      (o?.spec as { hosts?: string[] } | undefined)?.hosts?.[0];
    await source.stop();
    source = newSource({
      settleMs: 150,
      onPreview: (objects) => previews.push(objects.map((o) => `${o.metadata.name}:${host(o)}`)),
    });
    await writeFile(
      join(dir, 'a.yaml'),
      `${vs('one', 'a')}---
${vs('two', 'b')}`,
    );
    await writeFile(join(dir, 'c.yaml'), vs('three', 'c'));
    await source.start();
    const applied: string[] = [];
    store.onChange(() =>
      applied.push(
        store
          .list()
          .map((o) => `${o.metadata.name}:${host(o)}`)
          .join(','),
      ),
    );

    // A first version of the file (as if half-written), told ahead and never applied: the file
    // changes again before it settled.
    await writeFile(join(dir, 'a.yaml.tmp'), vs('one', 'x'));
    await rename(join(dir, 'a.yaml.tmp'), join(dir, 'a.yaml'));
    await new Promise((r) => setTimeout(r, 40));
    expect(previews).toEqual([['one:x', 'three:c']]);
    expect(applied).toEqual([]);
    await writeFile(
      join(dir, 'a.yaml.tmp'),
      `${vs('one', 'y')}---
${vs('two', 'b')}`,
    );
    await rename(join(dir, 'a.yaml.tmp'), join(dir, 'a.yaml'));
    await until(() => applied.length > 0);
    expect(previews.at(-1)).toEqual(['one:y', 'two:b', 'three:c']);
    expect(applied).toEqual(['one:y,three:c,two:b']);

    // A file that does not parse is told with what it held, reported once and not applied.
    await writeFile(join(dir, 'c.yaml'), vs('three', 'd').slice(0, 60) + '\n  http: [ {');
    await until(() => problems.some((p) => p.reason.startsWith('YAML')));
    expect(previews.at(-1)).toEqual(['one:y', 'two:b', 'three:c']);
    expect(problems.filter((p) => p.reason.startsWith('YAML'))).toHaveLength(1);
    expect(applied).toHaveLength(1);
    // A deleted file: told without its objects, then applied.
    await rm(join(dir, 'c.yaml'));
    await until(() => applied.length > 1);
    expect(previews.at(-1)).toEqual(['one:y', 'two:b']);
    expect(applied.at(-1)).toBe('one:y,two:b');
    // A large file (written in chunks, an event each, when in place) is not read ahead.
    const told = previews.length;
    await writeFile(join(dir, 'big.yaml.tmp'), `${vs('five', 'e')}#${'x'.repeat(70 * 1024)}\n`);
    await rename(join(dir, 'big.yaml.tmp'), join(dir, 'big.yaml'));
    await until(() => applied.length > 2);
    expect(applied.at(-1)).toBe('five:e,one:y,two:b');
    expect(previews).toHaveLength(told);
  });

  it('hands the store only the changed keys, across multi-document files, duplicates and renames', async () => {
    const host = (name: string): string | undefined =>
      (store.get(`VirtualService/default/${name}`)?.spec as { hosts?: string[] } | undefined)?.hosts?.[0];
    await writeFile(join(dir, 'a.yaml'), `${vs('one', 'a1')}---\n${vs('two', 'a2')}`);
    await writeFile(join(dir, 'b.yaml'), `${vs('two', 'b2')}---\n${vs('three', 'b3')}`);
    await source.start();
    const changes: string[][] = [];
    store.onChange((c) => changes.push([...c.changed]));
    expect([host('one'), host('two'), host('three')]).toEqual(['a1', 'a2', 'b3']);
    expect(source.problems().map((p) => p.reason)).toEqual([
      'duplicate: already defined in a.yaml; ignored in b.yaml',
    ]);
    // a.yaml loses `two`: b.yaml's takes its place, and the duplicate is gone.
    await writeFile(join(dir, 'a.yaml.tmp'), vs('one', 'a1'));
    await rename(join(dir, 'a.yaml.tmp'), join(dir, 'a.yaml'));
    await until(() => host('two') === 'b2');
    expect(changes).toEqual([['VirtualService/default/two']]);
    expect(source.problems()).toEqual([]);
    // A file defining `one` again within itself and `three` again: the earlier ones stay.
    await writeFile(
      join(dir, 'c.yaml.tmp'),
      `${vs('three', 'c3')}---\n${vs('four', 'c4')}---\n${vs('four', 'c5')}`,
    );
    await rename(join(dir, 'c.yaml.tmp'), join(dir, 'c.yaml'));
    await until(() => host('four') === 'c4');
    expect(host('three')).toBe('b3');
    expect(source.problems().map((p) => p.reason)).toEqual([
      'duplicate: already defined in b.yaml; ignored in c.yaml',
      'duplicate: already defined in c.yaml; ignored in c.yaml',
    ]);
    // b.yaml renamed after c.yaml: c.yaml's `three` now comes first.
    await rename(join(dir, 'b.yaml'), join(dir, 'd.yaml'));
    await until(() => host('three') === 'c3');
    expect(host('two')).toBe('b2');
    expect(source.problems().map((p) => p.reason)).toEqual([
      'duplicate: already defined in c.yaml; ignored in c.yaml',
      'duplicate: already defined in c.yaml; ignored in d.yaml',
    ]);
    await rm(join(dir, 'd.yaml'));
    await until(() => host('two') === undefined);
    expect(names()).toEqual(['four', 'one', 'three']);
    expect(looked.slice(1).every((l) => l === 'named')).toBe(true);
  });

  it('rejects an invalid object with its path and reason and keeps the others', async () => {
    const bad = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: bad }
spec:
  hosts: [x]
  http:
  - match: [{ uri: { regex: "(?=look)" } }]
    route: [{ destination: { host: x } }]
`;
    await writeFile(join(dir, 'a.yaml'), `${bad}---\n${vs('good', 'g')}`);
    await source.start();
    expect(names()).toEqual(['good']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'spec.http[0].match[0].uri.regex', severity: 'error' });
    expect(problems[0]?.object).toContain('VirtualService default/bad');
  });

  it('notifies the store with exactly the changed keys', async () => {
    await writeFile(join(dir, 'a.yaml'), `${vs('one', 'a')}---\n${vs('two', 'b')}`);
    await source.start();
    const changes: string[][] = [];
    store.onChange((c) => changes.push([...c.changed]));
    // Replaced atomically: an in-place write can be seen empty for longer than the settle period
    // on a loaded machine (as any time-based settle would), which is not what this test is about.
    await writeFile(join(dir, 'a.yaml.tmp'), `${vs('one', 'a')}---\n${vs('two', 'c')}`);
    await rename(join(dir, 'a.yaml.tmp'), join(dir, 'a.yaml'));
    await until(() => changes.length > 0);
    expect(changes).toEqual([['VirtualService/default/two']]);
  });

  it('reads only the files watch events named; a directory created or removed takes a full scan', async () => {
    await writeFile(join(dir, 'a.yaml'), vs('one', 'a'));
    await writeFile(join(dir, 'b.yaml'), vs('two', 'b'));
    await source.start();
    expect(looked).toEqual(['all']);
    await writeFile(join(dir, 'a.yaml.tmp'), vs('one', 'z'));
    await rename(join(dir, 'a.yaml.tmp'), join(dir, 'a.yaml'));
    await until(
      () => (store.get('VirtualService/default/one')?.spec as { hosts: string[] }).hosts[0] === 'z',
    );
    expect(looked.slice(1).every((l) => l === 'named')).toBe(true);
    await rm(join(dir, 'b.yaml'));
    await until(() => !names().includes('two'));
    expect(looked.slice(1).every((l) => l === 'named')).toBe(true);

    await mkdir(join(dir, 'sub'));
    await until(() => looked.includes('all', 1));
    await writeFile(join(dir, 'sub', 'c.yaml'), vs('three', 'c'));
    await until(() => names().includes('three'));
    const before = looked.length;
    await rm(join(dir, 'sub'), { recursive: true });
    await until(() => !names().includes('three'));
    expect(looked.slice(before)).toContain('all');
    expect(names()).toEqual(['one']);
  });

  it('stamps a change with its latest watch event, before the settle period', async () => {
    await writeFile(join(dir, 'a.yaml'), vs('one', 'a'));
    await source.start();
    const seen: { observedAt: number | undefined; at: number }[] = [];
    store.onChange((c) => seen.push({ observedAt: c.observedAt, at: Date.now() }));
    const t0 = Date.now();
    await writeFile(join(dir, 'a.yaml'), vs('one', 'b'));
    await until(() => seen.length > 0);
    const s = seen[0];
    expect(s?.observedAt).toBeGreaterThanOrEqual(t0);
    // The scan waited for 20 ms of quiet after that event (timers fire no earlier, to the ms).
    expect(s?.observedAt).toBeLessThanOrEqual((s?.at ?? 0) - 19);
  });
});
