// Entry point of skein-agent: parses the command line and starts the program.
import { Command } from 'commander';
import { SKEIN_VERSION } from '@skein/api-types';

const program = new Command('skein-agent')
  .description(
    'skein-agent: the Skein sidecar agent: bootstrap, certificates over SDS, probes, DNS, iptables',
  )
  .version(SKEIN_VERSION, '--version', 'print the release version');

program.parse();
