// fixtures/netns-probe.py run inside a test's network namespace: listeners that report which port
// a connection landed on and its original destination (SO_ORIGINAL_DST), and a client connecting
// as a given uid/gid (and source address) that prints the listener's report as JSON.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sh } from './netns-pair.js';

const probe = fileURLToPath(new URL('../fixtures/netns-probe.py', import.meta.url));

/** `listen`: TCP; `tlisten`: TCP with IP_TRANSPARENT (TPROXY); `udplisten`: UDP. */
export type ProbeMode = 'listen' | 'tlisten' | 'udplisten';

/** Listeners on `ports` in namespace `ns`, once they are bound (kill the process to stop them). */
export function startProbe(ns: string, mode: ProbeMode, ports: number[]): Promise<ChildProcess> {
  const p = spawn('ip', ['netns', 'exec', ns, 'python3', probe, mode, ...ports.map(String)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    p.stdout!.once('data', (d: Buffer) =>
      d.toString().startsWith('ready') ? resolve(p) : reject(new Error(d.toString())),
    );
    p.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
  });
}

export interface ProbeAnswer {
  port?: number;
  orig?: string | null;
  local?: string;
  peer?: string;
  error?: string;
}

/** Connects from namespace `ns` to `dst`:`port`, as `uid`/`gid` (gid defaults to uid), from `src`. */
export async function probeConnect(
  ns: string,
  dst: string,
  port: number,
  as: { uid?: number | undefined; gid?: number | undefined; src?: string | undefined } = {},
): Promise<ProbeAnswer> {
  const extra =
    as.uid === undefined ? [] : [String(as.uid), String(as.gid ?? as.uid), ...(as.src ? [as.src] : [])];
  return runProbe(ns, 'connect', dst, String(port), ...extra);
}

/** Sends one UDP datagram from namespace `ns` to `dst`:`port` as `uid`/`gid`; the listener's report. */
export function probeUdpSend(
  ns: string,
  dst: string,
  port: number,
  uid: number,
  gid: number,
): Promise<ProbeAnswer> {
  return runProbe(ns, 'udpsend', dst, String(port), String(uid), String(gid));
}

async function runProbe(ns: string, ...args: string[]): Promise<ProbeAnswer> {
  return JSON.parse(await sh('ip', 'netns', 'exec', ns, 'python3', probe, ...args)) as ProbeAnswer;
}
