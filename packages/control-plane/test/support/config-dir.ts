// A temporary skeind config directory for a test (`<dir>/config`), whose files are written beside
// it and renamed in, so skeind's watcher never reads half a file.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestConfigDir {
  /** The temporary directory: bootstraps, sockets and other files of the test go here too. */
  readonly dir: string;
  /** What skeind's `--config-dir` watches. */
  readonly configDir: string;
  /** Writes (or replaces) one config file atomically. */
  write(name: string, text: string): void;
  /** Removes the whole temporary directory. */
  remove(): void;
}

export function testConfigDir(prefix: string): TestConfigDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const configDir = join(dir, 'config');
  mkdirSync(configDir);
  return {
    dir,
    configDir,
    write(name, text) {
      const tmp = join(dir, `${name}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, join(configDir, name));
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
