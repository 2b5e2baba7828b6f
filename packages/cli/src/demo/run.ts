// skeinctl demo: a grayscale release through real Skein sidecars on loopback, with no cluster.
// Starts skeind (directory mode), the sample service v1 and v2 and a client, each behind its own
// skein-proxy, then walks the release by rewriting the VirtualService while traffic flows.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfigDump } from '../proxy-config/dump.js';
import { getJson, getText } from '../commands/http.js';
import { LiveTable, red, green } from './live-table.js';
import { Load, recordInto } from './load.js';
import { ProcessGroup, waitFor, whenReady } from './processes.js';
import { parsePrometheusText, sumOf } from './prom-text.js';
import { StepStats } from './stats.js';
import {
  APP_PORT,
  HOST,
  NAMESPACE,
  SERVICE_PORT,
  meshYaml,
  stepTitle,
  topology,
  virtualServiceYaml,
  type Step,
  type Topology,
  type Workload,
} from './topology.js';

export interface DemoOptions {
  readonly root: string;
  readonly durationSec: number;
  readonly rps: number;
  readonly steps: readonly Step[];
  /** Third octet of the loopback addresses (127.0.<base>.x). */
  readonly base: number;
  readonly keep: boolean;
  /** skeind's embedded CA and mTLS between the sidecars (default on; `--no-mtls`). */
  readonly mtls: boolean;
  readonly out: NodeJS.WriteStream;
}

const bin = (root: string, name: string) => join(root, 'bin', name);
const admin = (w: Workload) => `http://${w.ip}:15000`;
const stats = (w: Workload) => `http://${w.ip}:15090/stats/prometheus`;

/** istio_requests_total as the server sidecars saw it, by version. */
async function serverCounts(t: Topology): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const w of t.workloads.filter((x) => x.version)) {
    const samples = parsePrometheusText(await getText(stats(w)));
    out.set(
      w.version as string,
      sumOf(samples, 'istio_requests_total', { reporter: 'destination', response_code: '200' }),
    );
  }
  return out;
}

/** How the server sidecars saw their inbound requests: how many, how many over mutual TLS, from whom. */
interface InboundSecurity {
  readonly requests: number;
  readonly mutual: number;
  readonly principals: ReadonlyMap<string, number>;
}

async function inboundSecurity(t: Topology): Promise<InboundSecurity> {
  let requests = 0;
  let mutual = 0;
  const principals = new Map<string, number>();
  for (const w of t.workloads.filter((x) => x.version)) {
    const samples = parsePrometheusText(await getText(stats(w))).filter(
      (s) => s.name === 'istio_requests_total' && s.labels['reporter'] === 'destination',
    );
    for (const s of samples) {
      requests += s.value;
      if (s.labels['connection_security_policy'] !== 'mutual_tls') continue;
      mutual += s.value;
      const p = s.labels['source_principal'] ?? 'unknown';
      principals.set(p, (principals.get(p) ?? 0) + s.value);
    }
  }
  return { requests, mutual, principals };
}

/** What changed between two readings. */
function securityDelta(before: InboundSecurity, after: InboundSecurity): InboundSecurity {
  const principals = new Map<string, number>();
  for (const [p, n] of after.principals) {
    const d = n - (before.principals.get(p) ?? 0);
    if (d > 0) principals.set(p, d);
  }
  return { requests: after.requests - before.requests, mutual: after.mutual - before.mutual, principals };
}

/** The mTLS verdict: every inbound request of the step arrived over mutual TLS. */
function mtlsVerdict(d: InboundSecurity): { ok: boolean; note: string } {
  const who = [...d.principals.keys()].sort().join(', ') || 'none';
  if (d.requests > 0 && d.mutual === d.requests)
    return { ok: true, note: `mTLS: every request mutual_tls, source_principal ${who}` };
  return {
    ok: false,
    note: `mTLS: only ${d.mutual} of ${d.requests} requests the server sidecars saw were mutual_tls (source_principal ${who})`,
  };
}

async function clientFaults(client: Workload, status: number): Promise<number> {
  const samples = parsePrometheusText(await getText(stats(client)));
  return sumOf(samples, 'istio_requests_total', { reporter: 'source', response_code: String(status) });
}

async function routeVersions(w: Workload): Promise<string> {
  return readConfigDump(await getJson(`${admin(w)}/config_dump`))
    .routes.map((r) => r.versionInfo ?? '')
    .join(',');
}

/** Binomial tolerance: 4 standard deviations plus 2 points. */
function within(measured: number, expected: number, n: number): boolean {
  if (expected === 0 || expected === 1) return measured === expected;
  return Math.abs(measured - expected) <= 4 * Math.sqrt((expected * (1 - expected)) / Math.max(1, n)) + 0.02;
}

function verdictOf(
  step: Step,
  s: StepStats,
  server: Map<string, number>,
  faults503: number | undefined,
): { ok: boolean; notes: string[] } {
  const notes: string[] = [];
  let ok = s.unexpectedErrors === 0;
  if (!ok) notes.push(`${s.unexpectedErrors} unexpected failures, e.g. ${s.errorSamples.join(' | ')}`);
  const served = [...s.byVersion.values()].reduce((a, b) => a + b, 0);
  if (step.kind === 'weights') {
    const want = step.v2 / (step.v1 + step.v2);
    if (!within(s.share('v2'), want, served)) {
      ok = false;
      notes.push(
        `v2 share ${(s.share('v2') * 100).toFixed(1)}% is outside the tolerance around ${(want * 100).toFixed(0)}%`,
      );
    }
  }
  if (step.kind === 'header' && (!s.byVersion.get('v1') || !s.byVersion.get('v2'))) {
    ok = false;
    notes.push('expected both versions: jason on v2, everyone else on v1');
  }
  if (step.kind === 'fault') {
    const rate = s.expectedErrors / Math.max(1, s.requests);
    if (!within(rate, step.abortPercent / 100, s.requests)) {
      ok = false;
      notes.push(
        `abort rate ${(rate * 100).toFixed(1)}% is outside the tolerance around ${step.abortPercent}%`,
      );
    }
    if (faults503 !== undefined && Math.abs(faults503 - s.expectedErrors) > 1) {
      ok = false;
      notes.push(
        `client sidecar counted ${faults503} istio_requests_total{response_code="${step.status}"}, the client saw ${s.expectedErrors}`,
      );
    } else if (faults503 !== undefined)
      notes.push(
        `istio_requests_total{reporter="source",response_code="${step.status}"} +${faults503} on the client sidecar`,
      );
  }
  for (const [version, count] of server) {
    const seen = s.byVersion.get(version) ?? 0;
    if (Math.abs(count - seen) > 1) {
      ok = false;
      notes.push(
        `${version}'s sidecar counted ${count} requests in istio_requests_total, the client saw ${seen}`,
      );
    }
  }
  if (ok && step.kind !== 'fault')
    notes.push(
      `cross-checked with the server sidecars' istio_requests_total: v1 +${server.get('v1') ?? 0}, v2 +${server.get('v2') ?? 0}`,
    );
  return { ok, notes };
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

export async function runDemo(o: DemoOptions): Promise<number> {
  const t = topology(o.base);
  const client = t.workloads.find((w) => !w.version) as Workload;
  const dir = mkdtempSync(join(tmpdir(), 'skein-demo-'));
  const configDir = join(dir, 'config');
  const logDir = join(dir, 'logs');
  mkdirSync(configDir);
  mkdirSync(logDir);
  const group = new ProcessGroup(logDir);
  const table = new LiveTable(o.out);
  const say = (s: string) => o.out.write(`${s}\n`);
  let crashed: string | undefined;
  group.onUnexpectedExit = (c, code, signal) => {
    crashed = `${c.name} exited unexpectedly (${signal ?? code}); see ${c.log}`;
  };
  const load = new Load({ target: `http://${client.ip}:${SERVICE_PORT}`, host: HOST, rps: o.rps });
  let interrupted = false;
  // Stay installed for the whole run: a second Ctrl-C must not skip the cleanup.
  const onSignal = () => {
    if (interrupted) o.out.write('still shutting down...\n');
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const vsFile = join(configDir, 'reviews-virtualservice.yaml');
  try {
    writeAtomic(join(configDir, 'mesh.yaml'), meshYaml(t, o.mtls));
    // Directory-mode CA: skeind keeps its root in caDir; each workload bootstraps with its own token.
    const caDir = join(dir, 'ca');
    const tokens = new Map(t.workloads.map((w) => [w.name, randomBytes(18).toString('base64url')]));
    writeFileSync(
      join(dir, 'tokens'),
      t.workloads.map((w) => `${tokens.get(w.name)} ${NAMESPACE} ${w.serviceAccount}\n`).join(''),
      { mode: 0o600 },
    );
    writeAtomic(vsFile, virtualServiceYaml(o.steps[0] ?? { kind: 'weights', v1: 100, v2: 0 }));

    say(
      `▸ starting skeind (directory mode, config in ${configDir}${o.mtls ? `; CA in ${caDir}, TLS on ${t.controlPlaneIp}:15012` : ''})`,
    );
    // With mTLS the sidecars' xDS goes over 15012 too (agents relay it over TLS with their mesh
    // certificates); plaintext ADS then only listens on an ephemeral port nobody is told about.
    const xds = o.mtls ? `${t.controlPlaneIp}:15012` : `${t.controlPlaneIp}:15010`;
    group.start('skeind', bin(o.root, 'skeind'), [
      '--config-dir',
      configDir,
      '--xds-addr',
      o.mtls ? `${t.controlPlaneIp}:0` : xds,
      '--http-addr',
      `${t.controlPlaneIp}:15014`,
      ...(o.mtls
        ? [
            '--ca-dir',
            caDir,
            '--ca-tokens-file',
            join(dir, 'tokens'),
            '--secure-addr',
            `${t.controlPlaneIp}:15012`,
          ]
        : ['--no-ca']),
    ]);
    await waitFor(
      'skeind /ready',
      async () => (await fetch(`http://${t.controlPlaneIp}:15014/ready`)).ok,
      60_000,
    );

    say(
      `▸ starting reviews v1 and v2 and the client, each with its own sidecar (skein-agent + skein-proxy; xDS ${o.mtls ? `over TLS from ${xds}, relayed by the agent` : `in plaintext from ${xds}`})`,
    );
    // The CA comes from the flags below (or, with --no-mtls, none) whatever the environment says.
    const sidecarEnv = { ...process.env };
    delete sidecarEnv['CA_ADDR'];
    for (const w of t.workloads) {
      if (w.version) {
        await whenReady(
          group.start(`app-${w.name}`, process.execPath, [
            join(import.meta.dirname, 'sample-app.js'),
            '--listen',
            `${w.ip}:${APP_PORT}`,
            '--version',
            w.version,
          ]),
          10_000,
        );
      }
      // Each sidecar is skein-agent (bootstrap, status server on 15020/15021, drain) supervising
      // skein-proxy, as in a pod; its addresses are the workload's own loopback IP.
      group.start(
        `sidecar-${w.name}`,
        bin(o.root, 'skein-agent'),
        [
          'proxy',
          '--config-path',
          join(dir, `${w.name}.bootstrap.json`),
          '--proxy-binary',
          bin(o.root, 'skein-proxy'),
          '--pod-name',
          w.name,
          '--namespace',
          NAMESPACE,
          '--pod-ip',
          w.ip,
          '--service-account',
          w.serviceAccount,
          '--workload-name',
          w.name,
          ...Object.entries(w.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
          '--interception-mode',
          'NONE',
          '--discovery-address',
          xds,
          '--sds-socket',
          join(dir, `${w.name}.sds.sock`),
          '--admin-address',
          w.ip,
          '--listen-address',
          w.ip,
          '--status-address',
          w.ip,
          '--agent-address',
          w.ip,
          ...(o.mtls
            ? [
                '--ca-address',
                `${t.controlPlaneIp}:15012`,
                '--ca-root-cert',
                join(caDir, 'self-signed', 'root-cert.pem'),
                '--bootstrap-token',
                tokens.get(w.name) ?? '',
                '--xds-relay',
                '--xds-relay-socket',
                join(dir, `${w.name}.xds.sock`),
                '--discovery-tls',
              ]
            : []),
          '--termination-drain-duration',
          '1s',
          '--exit-on-zero-active-connections',
        ],
        sidecarEnv,
      );
    }
    for (const w of t.workloads)
      await waitFor(
        `${w.name}'s sidecar to be ready`,
        async () => (await fetch(`http://${w.ip}:15021/healthz/ready`)).ok,
        60_000,
      );
    await waitFor(
      'the client to reach reviews through its sidecar',
      async () => (await load.once()).status === 200,
      60_000,
      200,
    );

    say('');
    say('Where to look:');
    say(`  config (plain Istio YAML; edit it and watch): ${configDir}`);
    say(`  skeind:   http://${t.controlPlaneIp}:15014/metrics   /debug/syncz   /debug/configz`);
    for (const w of t.workloads)
      say(
        `  ${w.name.padEnd(10)} admin ${admin(w)}   prometheus ${stats(w)}   merged http://${w.ip}:15020/stats/prometheus`,
      );
    say(`  logs:     ${logDir}`);
    say('');

    let current = new StepStats();
    // What the requests now in flight may legitimately see.
    let expectFault = false;
    let expectedVersion: (h: Record<string, string>) => string | undefined = () => undefined;
    load.recorder = recordInto(
      () => current,
      () => expectFault,
      (h) => expectedVersion(h),
    );
    table.start();
    let failures = 0;
    let previous: Step | undefined;
    for (const [i, s] of o.steps.entries()) {
      if (interrupted || crashed) break;
      if (previous) {
        // The change itself, with traffic flowing: any failure now is a failure of the change.
        const transition = new StepStats();
        current = transition;
        expectFault = previous.kind === 'fault' || s.kind === 'fault';
        expectedVersion = () => undefined;
        load.start();
        const before = await routeVersions(client);
        writeAtomic(vsFile, virtualServiceYaml(s));
        await waitFor(
          'the client sidecar to get the new routes',
          async () => (await routeVersions(client)) !== before,
          15_000,
        );
        await new Promise((r) => setTimeout(r, 200));
        await load.stop();
        if (transition.unexpectedErrors > 0) {
          failures++;
          say(
            red(
              `✘ ${transition.unexpectedErrors} of ${transition.requests} requests failed while changing to "${stepTitle(s)}": ${transition.errorSamples.join(' | ')}`,
              table.colors,
            ),
          );
        }
      }
      const title = `${i + 1}/${o.steps.length} ${stepTitle(s)}`;
      const serverBefore = await serverCounts(t);
      const faultsBefore = s.kind === 'fault' ? await clientFaults(client, s.status) : 0;
      const securityBefore = o.mtls ? await inboundSecurity(t) : undefined;
      const measured = new StepStats();
      current = measured;
      expectFault = s.kind === 'fault';
      expectedVersion =
        s.kind === 'header' ? (h) => (h['end-user'] === s.user ? 'v2' : 'v1') : () => undefined;
      load.headersFor = s.kind === 'header' ? (n) => (n % 2 === 0 ? { 'end-user': s.user } : {}) : () => ({});
      load.start();
      const started = Date.now();
      while (Date.now() - started < o.durationSec * 1000 && !interrupted && !crashed) {
        table.progress(title, measured, (Date.now() - started) / (o.durationSec * 1000));
        await new Promise((r) => setTimeout(r, 100));
      }
      await load.stop();
      load.headersFor = () => ({});
      const serverAfter = await serverCounts(t);
      const server = new Map([...serverAfter].map(([v, n]) => [v, n - (serverBefore.get(v) ?? 0)]));
      const faults = s.kind === 'fault' ? (await clientFaults(client, s.status)) - faultsBefore : undefined;
      const verdict = verdictOf(s, measured, server, faults);
      if (securityBefore) {
        const m = mtlsVerdict(securityDelta(securityBefore, await inboundSecurity(t)));
        verdict.notes.push(m.note);
        if (!m.ok) verdict.ok = false;
      }
      if (!verdict.ok) failures++;
      table.finish(title, measured, verdict);
      previous = s;
    }
    await load.close();
    if (crashed) {
      say(red(`✘ ${crashed}`, table.colors));
      return 1;
    }
    if (interrupted) {
      say('interrupted: shutting down');
      return 130;
    }
    say('');
    if (failures > 0) {
      say(red(`✘ ${failures} step(s) failed: see the notes above and the logs in ${logDir}`, table.colors));
      return 1;
    }
    say(
      green(
        '✔ grayscale release complete: every step within tolerance, no unexpected failures',
        table.colors,
      ),
    );
    return 0;
  } catch (err) {
    say(red(`✘ ${(err as Error).message}${crashed ? `; ${crashed}` : ''}`, table.colors));
    return 1;
  } finally {
    await load.close().catch(() => undefined);
    await group.stopAll(8000);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (o.keep) say(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
