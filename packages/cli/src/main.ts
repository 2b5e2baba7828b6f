// Entry point of skeinctl: parses the command line and starts the program.
import { Command } from 'commander';
import { SKEIN_VERSION } from '@skein/api-types';

const program = new Command('skeinctl')
  .description('skeinctl: the Skein command line')
  .version(SKEIN_VERSION, '--version', 'print the release version');

program.parse();
