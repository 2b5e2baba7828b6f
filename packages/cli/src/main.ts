// Entry point of skeinctl: one command tree, every command with --help.
import { Command } from 'commander';
import { SKEIN_VERSION } from '@skein/api-types';
import { registerAnalyze } from './commands/analyze.js';
import { registerDemo } from './commands/demo.js';
import { registerInstall } from './commands/install.js';
import { registerKubeInject } from './commands/kube-inject.js';
import { registerProxyConfig } from './commands/proxy-config.js';
import { registerProxyStatus } from './commands/proxy-status.js';
import { registerVersion } from './commands/version.js';

const program = new Command('skeinctl')
  .description('skeinctl: the Skein command line')
  .version(SKEIN_VERSION, '--version', 'print the release version')
  .showHelpAfterError();

registerVersion(program);
registerAnalyze(program);
registerProxyConfig(program);
registerProxyStatus(program);
registerKubeInject(program);
registerDemo(program);
registerInstall(program);

// `skeinctl ... | head`: the reader went away; stop quietly as other command-line tools do
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
