// TPROXY interception end to end in network namespaces the test creates: a "pod" namespace with
// skein-proxy and an app on 127.0.0.1:8080, a "client" namespace joined by a veth pair. iptables
// TPROXY (mangle PREROUTING, mark 1337, Istio's policy route to table 133) sends the client's
// connections to the pod's port 8080 to the proxy's `transparent` 15006 listener without NAT: the
// listener sees the original destination as its local address, picks the port-8080 chain and
// proxies to the app. The same rule for port 8081 towards a listener that is not transparent gets
// no connection (the kernel only hands TPROXY connections to IP_TRANSPARENT sockets).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const id = randomBytes(3).toString('hex');
const POD = `skein-pp-${id}`;
const CLIENT = `skein-pc-${id}`;
const POD_IP = '10.215.0.1';
const child = join(import.meta.dirname, 'netns', 'tproxy-child.mjs');
const built = existsSync(join(import.meta.dirname, '..', 'dist', 'index.js'));
const addon = existsSync(join(import.meta.dirname, '..', 'dist', 'native', 'original-dst.node'));
const canNetns =
  process.getuid?.() === 0 &&
  spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status === 0 &&
  spawnSync('iptables', ['--version'], { stdio: 'ignore' }).status === 0;

const run = (...args: string[]): string => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8' });
const inNs = (ns: string, ...args: string[]): string => run('ip', 'netns', 'exec', ns, ...args);

/** A TCP exchange from the client namespace: the answer, or `error <code>`. */
function call(port: number): string {
  const script = [
    "const s = require('node:net').connect(" + `${port}, '${POD_IP}'` + ", () => s.write('hello'));",
    "let d = ''; s.setTimeout(2000, () => { console.log('error timeout'); process.exit(0); });",
    "s.on('data', (c) => (d += c)); s.on('end', () => console.log(d));",
    "s.on('error', (e) => console.log('error ' + e.code));",
  ].join('\n');
  return inNs(CLIENT, process.execPath, '-e', script).trim();
}

// Skipped only without root/ip/iptables, or when the package (and its addon) is not built.
describe.skipIf(!canNetns || !built || !addon)('TPROXY interception into a transparent listener', () => {
  let proxy: ChildProcess | undefined;

  beforeAll(async () => {
    run('ip', 'netns', 'add', POD);
    run('ip', 'netns', 'add', CLIENT);
    run('ip', 'link', 'add', `pp${id}`, 'type', 'veth', 'peer', 'name', `pc${id}`);
    run('ip', 'link', 'set', `pp${id}`, 'netns', POD);
    run('ip', 'link', 'set', `pc${id}`, 'netns', CLIENT);
    for (const [ns, dev, addr] of [
      [POD, `pp${id}`, `${POD_IP}/24`],
      [CLIENT, `pc${id}`, '10.215.0.2/24'],
    ] as const) {
      inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
      inNs(ns, 'ip', 'addr', 'add', addr, 'dev', dev);
      inNs(ns, 'ip', 'link', 'set', dev, 'up');
    }
    for (const [port, to] of [
      [8080, 15006],
      [8081, 15007],
    ] as const)
      inNs(
        POD,
        ...['iptables', '-t', 'mangle', '-A', 'PREROUTING', '-p', 'tcp', '-d', POD_IP],
        ...[
          '--dport',
          String(port),
          '-j',
          'TPROXY',
          '--on-port',
          String(to),
          '--tproxy-mark',
          '1337/0xffffffff',
        ],
      );
    inNs(POD, 'ip', 'rule', 'add', 'fwmark', '1337', 'lookup', '133');
    inNs(POD, 'ip', 'route', 'add', 'local', 'default', 'dev', 'lo', 'table', '133');
    const p = spawn('ip', ['netns', 'exec', POD, process.execPath, child], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    proxy = p;
    await new Promise<void>((resolve, reject) => {
      p.stdout.once('data', (d: Buffer) =>
        d.toString().includes('"ready":true') ? resolve() : reject(new Error(d.toString())),
      );
      p.once('exit', (code) => reject(new Error(`proxy child exited ${code}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (proxy && proxy.exitCode === null) {
      const exited = new Promise((r) => proxy?.once('exit', r));
      proxy.stdin?.end();
      await exited;
    }
    spawnSync('ip', ['netns', 'del', POD]);
    spawnSync('ip', ['netns', 'del', CLIENT]);
  });

  it('delivers the connection to the transparent listener by its original destination', () => {
    // The app answers with its caller: the proxy (loopback), so the bytes went through skein-proxy.
    expect(call(8080)).toBe('app got hello from 127.0.0.1');
  });

  it('gives a listener without `transparent` no TPROXY connections', () => {
    expect(call(8081)).toMatch(/^error /);
  });
});
