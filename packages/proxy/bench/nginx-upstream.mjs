// The bench's upstream (run.mjs, side-by-side.mjs, latency-timeline.mjs): one nginx worker answering
// 1 KB to every request, keep-alive unbounded; and the side scripts' setup around it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.mjs';

/**
 * Starts the nginx upstream with its files in `work`; returns its port and process. `launch(cmd,
 * args)` starts the process (run.mjs passes its own, which tracks and reports its children).
 */
export async function startNginxUpstream(
  work,
  launch = (cmd, args) => spawn(cmd, args, { stdio: 'ignore' }),
) {
  const port = await freePort();
  writeFileSync(
    join(work, 'up.conf'),
    `daemon off; worker_processes 1; pid ${work}/up.pid; error_log ${work}/up.err; events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; server { listen 127.0.0.1:${port}; location / { return 200 '${'x'.repeat(1024)}'; } } }\n`,
  );
  const proc = launch('nginx', ['-c', join(work, 'up.conf'), '-p', work]);
  return { port, proc };
}

/**
 * The side scripts' setup (side-by-side.mjs, latency-timeline.mjs): a work directory
 * (`<prefix>-XXXXXX` under the temp directory), the nginx upstream and `kids`, the processes to stop.
 * When the script exits, even after an exception, every kid is stopped and the directory removed.
 */
export async function sideScriptSetup(prefix) {
  const work = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const kids = [];
  process.on('exit', () => {
    for (const k of kids) k.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });
  const upstream = await startNginxUpstream(work);
  kids.push(upstream.proc);
  return { work, kids, up: upstream.port };
}
