// Entry point of skeind: parses the command line and starts the program.
import { Command } from 'commander';
import { SKEIN_VERSION } from '@skein/api-types';

const program = new Command('skeind')
  .description('skeind: the Skein control plane: watches mesh configuration and serves xDS')
  .version(SKEIN_VERSION, '--version', 'print the release version');

program.parse();
