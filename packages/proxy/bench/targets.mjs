// The targets of `npm run bench:proxy`, in their default order: the skein-proxy variants, the
// baseline build's (BENCH_BASELINE), the mTLS pairs (when openssl is there), nginx, HAProxy, the
// http-proxy package, a minimal undici proxy and the node relay floor. Each is
// `{ name, port, launch() }`; launch starts it on its port and returns the process (or a pair's).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skeinBootstrap } from './bootstrap.mjs';
import { makeCerts } from './certs.mjs';
import { mtlsTargets } from './mtls.mjs';
import { freePort } from './ports.mjs';

/** `start(name, cmd, args, env)` starts a process (run.mjs's, which tracks its children). */
export async function benchTargets({ root, work, upstreamPort, start }) {
  const here = import.meta.dirname;
  const node = process.execPath;
  const targets = [];
  const add = async (name, launch) => {
    const port = await freePort();
    targets.push({ name, port, launch: () => launch(port) });
  };
  // A skein-proxy (bin/skein-proxy, or a baseline build's `main` run by node) with the bench's
  // bootstrap written to `file`: the Istio route, or the plain one.
  const skein = (name, proc, file, { plain = false, concurrency = 1, env = {}, main } = {}) =>
    add(name, (port) => {
      const f = join(work, file);
      const bootstrap = plain
        ? skeinBootstrap(port, upstreamPort, 0, undefined, 'plain')
        : skeinBootstrap(port, upstreamPort);
      writeFileSync(f, JSON.stringify(bootstrap));
      const args = ['-c', f, '--concurrency', String(concurrency), '--log-level', 'warning'];
      return main
        ? start(proc, node, [main, ...args], env)
        : start(proc, join(root, 'bin/skein-proxy'), args, env);
    });
  await skein('skein-proxy', 'skein-proxy', 'skein.json');
  await skein('skein plain route', 'skein-plain', 'skein-plain.json', { plain: true });
  await skein('skein-proxy c2', 'skein-proxy-c2', 'skein-c2.json', { concurrency: 2 });
  await skein('skein node:http', 'skein-legacy', 'skein-legacy.json', {
    env: { SKEIN_PROXY_HTTP1: 'legacy' },
  });
  const baselineMain = process.env.BENCH_BASELINE ? join(process.env.BENCH_BASELINE, 'main.js') : undefined;
  if (baselineMain) {
    await skein('skein baseline', 'skein-baseline', 'skein-baseline.json', { main: baselineMain });
    await skein('baseline plain', 'baseline-plain', 'skein-baseline-plain.json', {
      plain: true,
      main: baselineMain,
    });
  }
  const certs =
    spawnSync('which', ['openssl'], { stdio: 'ignore' }).status === 0 ? makeCerts(work) : undefined;
  if (certs) {
    const pairs = mtlsTargets({
      work,
      certs,
      upstreamPort,
      start,
      skein: (name, args) => start(name, join(root, 'bin/skein-proxy'), args),
      baseline: baselineMain ? (name, args) => start(name, node, [baselineMain, ...args]) : undefined,
    });
    for (const [name, launch] of pairs) await add(name, launch);
  }
  await add('nginx', (port) => {
    const conf = join(work, `nginx-${port}.conf`);
    writeFileSync(
      conf,
      `daemon off; worker_processes 1; pid ${work}/ngx-${port}.pid; error_log ${work}/ngx.err; events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; upstream up { server 127.0.0.1:${upstreamPort}; keepalive 64; }
server { listen 127.0.0.1:${port}; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } } }\n`,
    );
    return start('nginx', 'nginx', ['-c', conf, '-p', work]);
  });
  await add('haproxy', (port) => {
    const conf = join(work, `haproxy-${port}.cfg`);
    writeFileSync(
      conf,
      `global\n  nbthread 1\n  maxconn 4096\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  timeout server 60s\n  http-reuse always\nfrontend f\n  bind 127.0.0.1:${port}\n  default_backend b\nbackend b\n  server s1 127.0.0.1:${upstreamPort}\n`,
    );
    return start('haproxy', 'haproxy', ['-f', conf, '-db']);
  });
  // Node programs taking `<port> <upstream port>`.
  const script = (name, proc, file) =>
    add(name, (port) => start(proc, node, [join(here, file), String(port), String(upstreamPort)]));
  await script('http-proxy', 'http-proxy', 'http-proxy.mjs');
  await script('undici-minimal', 'undici', 'undici-proxy.mjs');
  await script('node relay floor', 'relay', 'node-relay.mjs');
  await script('node http/1 floor', 'http1floor', 'node-http1-floor.mjs');
  return targets;
}
