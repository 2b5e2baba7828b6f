// The side scripts' shared setup (side-by-side.mjs, latency-timeline.mjs): a free loopback port, and
// the bench's upstream — one nginx worker answering 1 KB to every request, keep-alive unbounded.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A loopback port the kernel just gave out (free when this resolves). */
export const freePort = () =>
  new Promise((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => r(p));
    });
  });

/** Starts the nginx upstream with its files in `work`; returns its port and process. */
export async function startNginxUpstream(work) {
  const port = await freePort();
  writeFileSync(
    join(work, 'up.conf'),
    `daemon off; worker_processes 1; pid ${work}/up.pid; error_log ${work}/up.err; events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; server { listen 127.0.0.1:${port}; location / { return 200 '${'x'.repeat(1024)}'; } } }\n`,
  );
  const proc = spawn('nginx', ['-c', join(work, 'up.conf'), '-p', work], { stdio: 'ignore' });
  return { port, proc };
}
