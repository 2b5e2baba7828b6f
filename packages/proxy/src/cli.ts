// The skein-proxy command (loaded by main.ts): parses the command line, loads the bootstrap,
// reports unsupported fields, starts the proxy and stops it cleanly on SIGTERM/SIGINT or
// /quitquitquit.
import { Command, Option } from 'commander';
import { SKEIN_VERSION } from '@skein/api-types';
import { loadBootstrapFile } from './bootstrap/load-bootstrap.js';
import { RunningProxy } from './proxy.js';
import { isLogLevel, LOG_LEVELS } from './util/logger.js';
import { releaseStartupMemory } from './util/release-memory.js';

const program = new Command('skein-proxy')
  .description('skein-proxy: the Skein data plane proxy, configured through an Envoy v3 bootstrap and xDS')
  .version(SKEIN_VERSION, '--version', 'print the release version')
  .requiredOption('-c, --config-path <file>', 'Envoy v3 Bootstrap file (YAML or JSON)')
  .addOption(
    new Option(
      '--concurrency <n>',
      'worker threads sharing the listening ports (only 1 is implemented so far)',
    )
      .default('2')
      .argParser((v) => v),
  )
  .addOption(
    new Option('-l, --log-level <level>', 'log level').choices(LOG_LEVELS as string[]).default('info'),
  )
  .option(
    '--reject-unsupported',
    'refuse to start when the bootstrap sets fields skein-proxy does not implement (default: report and start)',
    false,
  )
  .option('--delta-xds', 'use incremental (delta) ADS instead of state of the world', false);

program.parse();
const opts = program.opts<{
  configPath: string;
  concurrency: string;
  logLevel: string;
  rejectUnsupported: boolean;
  deltaXds: boolean;
}>();

async function main(): Promise<void> {
  const loaded = await loadBootstrapFile(opts.configPath);
  if (loaded.unsupported.length > 0) {
    for (const f of loaded.unsupported)
      process.stderr.write(`skein-proxy: unsupported bootstrap field: ${f}\n`);
    if (opts.rejectUnsupported) {
      process.stderr.write('skein-proxy: refusing to start (--reject-unsupported)\n');
      process.exit(2);
    }
  }
  const concurrency = Math.max(1, Math.floor(Number(opts.concurrency) || 1));
  const options = {
    logLevel: isLogLevel(opts.logLevel) ? opts.logLevel : ('info' as const),
    deltaXds: opts.deltaXds,
    onQuit: () => process.exit(0),
  };
  let proxy: RunningProxy;
  let stopAll: () => Promise<void>;
  if (concurrency > 1) {
    // node:worker_threads loads only when there are workers.
    const { startWorkerPool } = await import('./workers/worker-pool.js');
    const pool = await startWorkerPool(loaded.bootstrap, loaded.unsupported, options, concurrency);
    proxy = pool.primary;
    stopAll = () => pool.stop();
  } else {
    proxy = new RunningProxy(loaded.bootstrap, loaded.unsupported, options);
    await proxy.start();
    stopAll = () => proxy.stop();
  }
  const stop = (): void => {
    void stopAll().then(() => process.exit(0));
  };
  // Once the first full configuration is in, give what loading it took back to the OS.
  void proxy.waitReady().then(() => setImmediate(releaseStartupMemory));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const a = proxy.adminAddress;
  process.stderr.write(
    `skein-proxy ${SKEIN_VERSION}: started with ${concurrency} worker${concurrency > 1 ? 's' : ''}${a ? `, admin on ${a.address}:${a.port}` : ''}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`skein-proxy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
