// Istio standard metrics and access logs across two proxies (client sidecar → server sidecar):
// each side labels requests with its own workload from node metadata and the peer's from the
// exchanged metadata headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';

const SVC = 'server.default.svc.cluster.local';
let app: Echo;
let server: RunningProxy;
let client: RunningProxy;
let clientPort: number;
let dir: string;

function node(name: string, app: string, version: string): Record<string, unknown> {
  return {
    id: `sidecar~127.0.0.1~${name}-abc.default~default.svc.cluster.local`,
    cluster: app,
    metadata: {
      NAMESPACE: 'default',
      WORKLOAD_NAME: name,
      SERVICE_ACCOUNT: app,
      CLUSTER_ID: 'Kubernetes',
      LABELS: { app, version },
    },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skein-proxy-telemetry-'));
  app = await startEcho('server-app');
  server = await startProxy(
    {
      node: node('server-v1', 'server', 'v1'),
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener(
            'inbound',
            {
              name: 'inbound',
              virtual_hosts: [
                {
                  name: 'in',
                  domains: ['*'],
                  routes: [{ match: { prefix: '/' }, route: { cluster: 'inbound|8080||' } }],
                },
              ],
            },
            {},
            { traffic_direction: 'INBOUND' },
          ),
        ],
        clusters: [staticCluster('inbound|8080||', [app.port])],
      },
    },
    { logLevel: 'off' },
  );
  const serverPort = server.listenerAddress('inbound')?.port ?? 0;
  client = await startProxy(
    {
      node: node('client-v1', 'client', 'v1'),
      admin: ADMIN,
      static_resources: {
        listeners: [
          httpListener(
            'outbound',
            {
              name: 'out',
              virtual_hosts: [
                {
                  name: SVC,
                  domains: ['*'],
                  routes: [{ match: { prefix: '/' }, route: { cluster: `outbound|80||${SVC}` } }],
                },
              ],
            },
            {
              access_log: [
                {
                  name: 'envoy.access_loggers.file',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
                    path: join(dir, 'access.log'),
                    log_format: {
                      json_format: {
                        code: '%RESPONSE_CODE%',
                        flags: '%RESPONSE_FLAGS%',
                        path: '%REQ(:PATH)%',
                        upstream: '%UPSTREAM_CLUSTER%',
                      },
                    },
                  },
                },
                {
                  name: 'envoy.access_loggers.file',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
                    path: join(dir, 'text.log'),
                  },
                },
              ],
            },
            { traffic_direction: 'OUTBOUND' },
          ),
        ],
        clusters: [staticCluster(`outbound|80||${SVC}`, [serverPort])],
      },
    },
    { logLevel: 'off' },
  );
  clientPort = client.listenerAddress('outbound')?.port ?? 0;
});

afterAll(async () => {
  await client?.stop();
  await server?.stop();
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

function sample(text: string, metric: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric + '{')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.split(' ').pop());
  }
  return undefined;
}

describe('Istio metrics between two proxies', () => {
  it('labels both sides with source and destination workloads', async () => {
    for (let i = 0; i < 3; i++) expect((await get(clientPort, '/hello', { host: SVC })).status).toBe(200);
    // The app never sees the exchange headers.
    expect(app.requests[0]?.headers['x-envoy-peer-metadata']).toBeUndefined();
    const serverProm = await (
      await fetch(`http://127.0.0.1:${server.adminAddress?.port}/stats/prometheus`)
    ).text();
    expect(
      sample(serverProm, 'istio_requests_total', {
        reporter: 'destination',
        source_workload: 'client-v1',
        source_app: 'client',
        destination_workload: 'server-v1',
        destination_app: 'server',
        destination_version: 'v1',
        destination_service: SVC,
        destination_service_name: 'server',
        destination_service_namespace: 'default',
        response_code: '200',
        request_protocol: 'http',
      }),
    ).toBe(3);
    const clientProm = await (
      await fetch(`http://127.0.0.1:${client.adminAddress?.port}/stats/prometheus`)
    ).text();
    expect(
      sample(clientProm, 'istio_requests_total', {
        reporter: 'source',
        source_workload: 'client-v1',
        destination_workload: 'server-v1',
        destination_service: SVC,
        response_code: '200',
      }),
    ).toBe(3);
    expect(clientProm).toContain('istio_request_duration_milliseconds_bucket{');
  });

  it("writes access logs in JSON and in Envoy's default text format", async () => {
    await get(clientPort, '/logged', { host: SVC });
    await client.stop();
    const lines = (await readFile(join(dir, 'access.log'), 'utf8')).trim().split('\n');
    const last = JSON.parse(lines[lines.length - 1] ?? '{}') as Record<string, unknown>;
    expect(last).toEqual({ code: 200, flags: '-', path: '/logged', upstream: `outbound|80||${SVC}` });
    const text = await readFile(join(dir, 'text.log'), 'utf8');
    expect(text).toMatch(
      /"GET \/logged HTTP\/1\.1" 200 - 0 \d+ \d+ \d+ "-" "-" "[0-9a-f-]{36}" "server\.default\.svc\.cluster\.local" "127\.0\.0\.1:\d+"/,
    );
  });
});
