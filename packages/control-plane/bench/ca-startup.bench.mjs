// What the embedded CA (on by default) costs skeind at start: time from spawn to the
// `skeind started` log line, interleaved rounds of --no-ca, CA on an existing root, and CA creating
// its root (first start), medians. Also the cost of a serving-certificate reissue in process.
//   node packages/control-plane/bench/ca-startup.bench.mjs [--rounds 7]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CertificateAuthority, createRootCa, rotatingServingCredentials } from '@skein/ca';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 7);
const dir = mkdtempSync(join(tmpdir(), 'skeind-ca-bench-'));
const local = ['--xds-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--secure-addr', '127.0.0.1:0'];

function startOnce(args, env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(join(root, 'bin/skeind'), ['--config-dir', join(dir, 'cfg'), ...local, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let text = '';
    let ms;
    child.stderr.on('data', (d) => {
      text += d.toString();
      if (ms === undefined && text.includes('"msg":"skeind started"')) {
        ms = performance.now() - t0;
        child.kill('SIGTERM');
      }
    });
    child.once('exit', (code) =>
      ms !== undefined ? resolve(ms) : reject(new Error(`skeind exited ${code}: ${text.slice(-500)}`)),
    );
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kinds = {
  'no CA (--no-ca)': () => startOnce(['--no-ca'], {}),
  'CA, existing root': () => startOnce([], { XDG_STATE_HOME: join(dir, 'kept') }),
  'CA, first start (new root)': () => startOnce([], { XDG_STATE_HOME: mkdtempSync(join(dir, 'fresh-')) }),
};
await kinds['CA, existing root'](); // create the kept root
const results = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) for (const [k, f] of Object.entries(kinds)) results[k].push(await f());
const base = median(results['no CA (--no-ca)']);
console.log(`skeind start → "skeind started", ${rounds} interleaved rounds, median ms:`);
for (const [k, v] of Object.entries(results))
  console.log(
    `  ${k.padEnd(28)} ${median(v).toFixed(0).padStart(6)}   (+${(median(v) - base).toFixed(0)} ms, x${(median(v) / base).toFixed(2)})`,
  );

// One serving-certificate reissue (key generation + signing), in process.
const ca = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }));
const serving = await rotatingServingCredentials(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const times = [];
for (let i = 0; i < 50; i++) {
  const t0 = performance.now();
  await serving.rotate();
  times.push(performance.now() - t0);
}
serving.stop();
console.log(
  `serving certificate reissue (ECDSA P-256 key + signature), median of 50: ${median(times).toFixed(2)} ms`,
);
rmSync(dir, { recursive: true, force: true });
