// Entry point of skein-ca: parses the command line and starts the program.
import { Command } from 'commander';
import { SKEIN_VERSION } from '@skein/api-types';

const program = new Command('skein-ca')
  .description('skein-ca: the Skein certificate authority')
  .version(SKEIN_VERSION, '--version', 'print the release version');

program.parse();
