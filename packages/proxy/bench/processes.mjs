// The processes of `npm run bench:proxy`: the Debian tools it needs, starting a target (its stderr
// kept for the report of an unexpected exit, optionally with Node's GC trace) and stopping one.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Installs the Debian packages of the `[binary, package]` pairs whose binary is missing (as root). */
export function ensureDebian(pkgs) {
  const missing = pkgs
    .filter(([bin]) => spawnSync('which', [bin], { stdio: 'ignore' }).status !== 0)
    .map(([, p]) => p);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(' ')} (run as root to install)`);
  console.log(`installing ${missing.join(' ')} from Debian...`);
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/**
 * A starter of targets: `start(name, cmd, args, env)` spawns one and adds it to `children`. With
 * `traceGc`, Node targets run with --trace-gc (bin/skein-proxy is node + dist/main.js without
 * flags; NODE_OPTIONS cannot carry it) and `proc.gc()` counts their collections so far.
 */
export function processStarter({ root, work, traceGc }) {
  const children = [];
  function start(name, cmd, args, env = {}) {
    const trace = traceGc && (cmd === process.execPath || cmd.endsWith('skein-proxy'));
    if (trace && cmd !== process.execPath) {
      args = ['--no-memory-reducer', join(root, 'packages/proxy/dist/main.js'), ...args]; // as bin/.skein-exec
      cmd = process.execPath;
    }
    // The trace goes to a file: a pipe would block the target while spawnSync(wrk) holds our loop.
    const gcLog = trace ? join(work, `gc-${name}-${children.length}.log`) : undefined;
    const p = spawn(cmd, trace ? ['--trace-gc', ...args] : args, {
      stdio: ['ignore', gcLog ? openSync(gcLog, 'w') : 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    if (gcLog) {
      p.gc = () => {
        const text = readFileSync(gcLog, 'utf8');
        const count = (re) => (text.match(re) ?? []).length;
        return {
          scavenge: count(/Scavenge|Minor Mark/g),
          major: count(/Mark-Compact|Mark-sweep/gi),
          reduce: count(/reduce|idle/gi),
        };
      };
    }
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on(
      'exit',
      (code) => code && code !== 0 && !p.stopping && console.error(`${name} exited ${code}: ${err}`),
    );
    children.push(p);
    return p;
  }
  return { start, children };
}

/** True while a process exists and is not a zombie. */
export function alive(pid) {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
  } catch {
    return false;
  }
}

/** Sends SIGTERM, marking the process as stopped on purpose (its exit is not reported). */
export function stop(p) {
  p.stopping = true;
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {}
}
