// Entry point of skein-proxy: parses the command line and starts the program.
import { Command } from 'commander';
import { SKEIN_VERSION } from '@skein/api-types';

const program = new Command('skein-proxy')
  .description('skein-proxy: the Skein data plane proxy, configured through an Envoy v3 bootstrap and xDS')
  .version(SKEIN_VERSION, '--version', 'print the release version');

program.parse();
