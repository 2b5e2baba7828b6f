// The built binary loads optional dependencies only when its configuration needs them: an idle
// proxy with static clusters and a plain HTTP listener loads neither the OpenTelemetry SDK, nor
// @skein/ca, nor gRPC, prom-client, YAML, RE2, undici or commander, nor Node's bundled undici, Web
// Crypto, TLS, HTTP/2 or worker threads; the same
// proxy with a traced HCM and an RBAC filter loads the SDK and @skein/ca before it serves.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers/free-port.js';

const main = join(import.meta.dirname, '..', 'dist', 'main.js');
const built = existsSync(main);
const recorder = join(import.meta.dirname, 'fixtures', 'record-loads.mjs');
const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

function bootstrap(port: number, adminPort: number, extras: { tracing?: boolean; rbac?: boolean }) {
  const clusters = Array.from({ length: 20 }, (_, i) => ({
    name: `c${i}`,
    type: 'STATIC',
    connectTimeout: '1s',
    loadAssignment: {
      clusterName: `c${i}`,
      endpoints: [
        {
          lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 9 } } } }],
        },
      ],
    },
  }));
  const httpFilters: unknown[] = [];
  if (extras.rbac)
    httpFilters.push({
      name: 'envoy.filters.http.rbac',
      typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC', rules: {} },
    });
  httpFilters.push({
    name: 'router',
    typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
  });
  return {
    node: { id: 'lazy', cluster: 'lazy' },
    admin: { address: { socketAddress: { address: '127.0.0.1', portValue: adminPort } } },
    staticResources: {
      clusters,
      listeners: [
        {
          name: 'l',
          address: { socketAddress: { address: '127.0.0.1', portValue: port } },
          filterChains: [
            {
              filters: [
                {
                  name: 'hcm',
                  typedConfig: {
                    '@type': HCM,
                    statPrefix: 'l',
                    ...(extras.tracing
                      ? {
                          tracing: {
                            provider: {
                              name: 'envoy.tracers.opentelemetry',
                              typedConfig: {
                                '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
                                grpcService: { envoyGrpc: { clusterName: 'c0' } },
                              },
                            },
                          },
                        }
                      : {}),
                    routeConfig: {
                      virtualHosts: [
                        {
                          name: 'all',
                          domains: ['*'],
                          routes: [{ match: { prefix: '/' }, route: { cluster: 'c0' } }],
                        },
                      ],
                    },
                    httpFilters,
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  };
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Starts the binary, waits until it is ready, stops it and returns what it loaded. */
async function loadsOf(extras: {
  tracing?: boolean;
  rbac?: boolean;
}): Promise<{ urls: string[]; builtins: string[] }> {
  dir = mkdtempSync(join(tmpdir(), 'skein-proxy-lazy-'));
  const port = await freePort();
  const adminPort = await freePort();
  const file = join(dir, 'bootstrap.json');
  const out = join(dir, 'loads.json');
  writeFileSync(file, JSON.stringify(bootstrap(port, adminPort, extras)));
  const proc = spawn(
    process.execPath,
    ['--import', recorder, main, '-c', file, '--concurrency', '1', '--log-level', 'warning'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, SKEIN_RECORD_LOADS: out },
    },
  );
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', r));
  try {
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${adminPort}/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
      if (proc.exitCode !== null) throw new Error(`skein-proxy exited ${proc.exitCode}: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // The admin server answers a config dump too (Envoy stats and Prometheus pages load prom-client).
    expect((await fetch(`http://127.0.0.1:${adminPort}/config_dump`)).status).toBe(200);
  } finally {
    proc.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  return JSON.parse(readFileSync(out, 'utf8')) as { urls: string[]; builtins: string[] };
}

const loaded = (urls: string[], part: string): boolean => urls.some((u) => u.includes(part));

// Skipped only when the package is not built (nx builds it before its tests).
describe.skipIf(!built)('module loading of the skein-proxy binary', () => {
  it('an idle proxy without tracing, RBAC or xDS loads none of the optional dependencies', async () => {
    const { urls, builtins } = await loadsOf({});
    expect(loaded(urls, '/packages/proxy/dist/proxy.js')).toBe(true);
    for (const part of [
      '/@opentelemetry/',
      '/packages/ca/',
      '/@grpc/grpc-js/',
      '/prom-client/',
      '/yaml/',
      '/re2js/',
      // undici (only the legacy HTTP/1.1 path uses its pool), commander (the flags are parseArgs').
      '/undici/',
      '/commander/',
    ])
      expect({ part, loaded: loaded(urls, part) }).toEqual({ part, loaded: false });
    // Nor Node's bundled undici, Web Crypto, TLS, HTTP/2, worker threads at --concurrency 1, or the
    // fs promise API (and readline with it).
    for (const mod of [
      'internal/deps/undici/undici',
      'internal/crypto/webcrypto',
      'tls',
      'http2',
      'https',
      'worker_threads',
      'internal/fs/promises',
    ])
      expect(builtins).not.toContain(`NativeModule ${mod}`);
  });

  it('a traced HCM with an RBAC filter loads the OpenTelemetry SDK and @skein/ca before serving', async () => {
    const { urls } = await loadsOf({ tracing: true, rbac: true });
    expect(loaded(urls, '/@opentelemetry/sdk-trace-base/')).toBe(true);
    expect(loaded(urls, '/packages/ca/dist/index.js')).toBe(true);
  });
});
