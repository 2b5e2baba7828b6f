/**
 * The repository's own skeinctl (bin/skeinctl, the workspace's build of packages/cli) run as a
 * user runs it, e.g. `skeinctl install` against the suite's cluster.
 */
import { runCommand, type CommandResult } from './run-command.js';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'skeinctl');

export function skeinctl(args: readonly string[]): Promise<CommandResult> {
  return runCommand(BIN, args);
}
