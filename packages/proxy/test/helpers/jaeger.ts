// A real OTLP receiver for tracing tests: Jaeger v2 built from the Go module proxy by the
// project's scripts/cluster/build-tools.sh (cached under $SKEIN_CACHE), run with an in-memory
// store on ephemeral loopback ports; its query API returns the traces it received.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

const root = join(import.meta.dirname, '..', '..', '..', '..');
const bin = join(process.env['SKEIN_CACHE'] ?? '/var/cache/skein', 'jaeger-v1.76.0', 'jaeger');

export function hasGo(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

export function buildJaeger(): string {
  if (existsSync(bin)) return bin;
  const r = spawnSync('bash', [join(root, 'scripts/cluster/build-tools.sh'), 'jaeger'], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(bin)) throw new Error(`building jaeger failed: ${r.stderr}`);
  return bin;
}

export interface Jaeger {
  otlpPort: number;
  /** Traces of a service from the query API (Jaeger's JSON shape). */
  traces(service: string): Promise<JaegerTrace[]>;
  stop(): Promise<void>;
}

export interface JaegerTrace {
  traceID: string;
  spans: {
    spanID: string;
    operationName: string;
    processID: string;
    references: { refType: string; spanID: string }[];
    tags: { key: string; value: unknown }[];
  }[];
  processes: Record<string, { serviceName: string }>;
}

export async function startJaeger(): Promise<Jaeger> {
  const jaeger = buildJaeger();
  const dir = mkdtempSync(join(tmpdir(), 'skein-jaeger-'));
  const [otlpPort, queryPort, queryGrpcPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(
    join(dir, 'config.yaml'),
    `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces: { receivers: [otlp], exporters: [jaeger_storage_exporter] }
  telemetry: { metrics: { level: none }, logs: { level: error } }
extensions:
  jaeger_query:
    storage: { traces: mem }
    http: { endpoint: 127.0.0.1:${queryPort} }
    grpc: { endpoint: 127.0.0.1:${queryGrpcPort} }
  jaeger_storage:
    backends: { mem: { memory: { max_traces: 10000 } } }
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:${otlpPort} } } }
exporters:
  jaeger_storage_exporter: { trace_storage: mem }
`,
  );
  const proc: ChildProcess = spawn(jaeger, [`--config=file:${join(dir, 'config.yaml')}`], {
    stdio: 'ignore',
  });
  const api = `http://127.0.0.1:${queryPort}`;
  // Ready when the query API answers (Jaeger has no other readiness signal here).
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${api}/api/services`)).ok) break;
    } catch {
      if (i > 300) throw new Error('jaeger did not start');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    otlpPort,
    traces: async (service) => {
      const r = (await (
        await fetch(`${api}/api/traces?service=${encodeURIComponent(service)}&limit=20`)
      ).json()) as { data: JaegerTrace[] | null };
      return r.data ?? [];
    },
    stop: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
