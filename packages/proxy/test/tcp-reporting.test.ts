// Istio TCP metrics while a connection is open: with the stats filter's tcp_reporting_duration
// (Telemetry `reportingInterval`) the bytes of a long-lived connection appear before it closes,
// and closing adds only the rest, so the totals match what was sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, staticCluster } from './helpers/upstreams.js';

let echo: net.Server;
let proxy: RunningProxy;

beforeAll(async () => {
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  proxy = await startProxy({
    node: {
      id: 'sidecar~127.0.0.1~client.default~default.svc.cluster.local',
      cluster: 'test',
      metadata: { NAME: 'client', NAMESPACE: 'default', WORKLOAD_NAME: 'client', LABELS: { app: 'client' } },
    },
    admin: ADMIN,
    static_resources: {
      listeners: [
        {
          name: 'tcp',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          traffic_direction: 'OUTBOUND',
          filter_chains: [
            {
              filters: [
                {
                  name: 'istio.stats',
                  typed_config: {
                    '@type': 'type.googleapis.com/google.protobuf.Struct',
                    value: { metrics: [], tcpReportingDuration: '0.2s' },
                  },
                },
                {
                  name: 'envoy.filters.network.tcp_proxy',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
                    stat_prefix: 'tcp',
                    cluster: 'outbound|5432||db.default.svc.cluster.local',
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        staticCluster('outbound|5432||db.default.svc.cluster.local', [
          (echo.address() as net.AddressInfo).port,
        ]),
      ],
    },
  });
});

afterAll(async () => {
  await proxy?.stop();
  await new Promise((r) => echo?.close(r));
});

async function bytes(metric: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${proxy.adminAddress?.port}/stats/prometheus`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${metric}{`))
    .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
}

describe('TCP metrics reporting interval', () => {
  it('reports the bytes of an open connection, then the rest at close', async () => {
    const s = net.connect(proxy.listenerAddress('tcp')?.port ?? 0, '127.0.0.1');
    let got = 0;
    s.on('data', (c: Buffer) => (got += c.length));
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.write('x'.repeat(1000));
    await expect.poll(() => got, { timeout: 5000 }).toBe(1000);
    await expect.poll(() => bytes('istio_tcp_sent_bytes_total'), { timeout: 5000, interval: 100 }).toBe(1000);
    expect(await bytes('istio_tcp_received_bytes_total')).toBe(1000);
    expect(await bytes('istio_tcp_connections_closed_total')).toBe(0); // still open
    s.write('y'.repeat(500));
    await expect.poll(() => got, { timeout: 5000 }).toBe(1500);
    s.end();
    await expect.poll(() => bytes('istio_tcp_connections_closed_total'), { timeout: 5000 }).toBe(1);
    expect(await bytes('istio_tcp_sent_bytes_total')).toBe(1500);
    expect(await bytes('istio_tcp_received_bytes_total')).toBe(1500);
  });
});
