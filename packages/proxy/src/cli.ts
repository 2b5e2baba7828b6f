// The skein-proxy command (loaded by main.ts): parses the command line, loads the bootstrap,
// reports unsupported fields, starts the proxy and stops it cleanly on SIGTERM/SIGINT or
// /quitquitquit.
import { availableParallelism } from 'node:os';
import { SKEIN_VERSION } from '@skein/api-types';
import { loadBootstrapFile } from './bootstrap/load-bootstrap.js';
import { RunningProxy } from './proxy.js';
import { isLogLevel } from './util/logger.js';
import { releaseWhenIdle } from './util/idle-release.js';
import { releaseStartupMemory } from './util/release-memory.js';
import { releaseOptimizingCompilers } from './util/startup-tiering.js';
import { helpText, parseProxyArgs } from './cli-flags.js';

const request = parseProxyArgs(process.argv.slice(2));
if (request.kind === 'help') {
  process.stdout.write(helpText());
  process.exit(0);
}
if (request.kind === 'version') {
  process.stdout.write(`${SKEIN_VERSION}\n`);
  process.exit(0);
}
if (request.kind === 'error') {
  process.stderr.write(`skein-proxy: ${request.message}\n${helpText()}`);
  process.exit(1);
}
const opts = request.flags;
const COMPILERS_HELD_MAX_MS = 10_000;

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
  const requested = Number(opts.concurrency);
  if (!Number.isInteger(requested) || requested < 0) {
    process.stderr.write(`skein-proxy: --concurrency: want a whole number ≥ 0, got ${opts.concurrency}\n`);
    process.exit(2);
  }
  const concurrency = requested === 0 ? availableParallelism() : requested;
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
  // Once the first full configuration is in, give what loading it took back to the OS, then let
  // V8 optimise again (main.ts held its optimising compilers during startup), and from then on give
  // back what traffic grew whenever the thread goes quiet (util/idle-release.ts). A proxy that waits
  // long for its configuration (xDS server down) gets them back after COMPILERS_HELD_MAX_MS anyway.
  const fallback = setTimeout(releaseOptimizingCompilers, COMPILERS_HELD_MAX_MS).unref();
  void proxy.waitReady().then(() =>
    setImmediate(() => {
      releaseStartupMemory();
      clearTimeout(fallback);
      releaseOptimizingCompilers();
      releaseWhenIdle();
    }),
  );
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
