// Telemetry metrics overrides folded across layers into one stats configuration per direction.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MESH_CONFIG } from '../model/mesh-config.js';
import { metricsPlan, type MetricsEntry } from './telemetry-metrics.js';

const byName = (plan: ReturnType<typeof metricsPlan>) =>
  Object.fromEntries((plan?.metrics ?? []).map((m) => [m.name, m]));

describe('metricsPlan', () => {
  const root: MetricsEntry[] = [
    {
      providers: [{ name: 'prometheus' }],
      overrides: [
        { match: { metric: 'REQUEST_SIZE' }, disabled: true },
        { match: { metric: 'REQUEST_COUNT' }, tagOverrides: { response_flags: { operation: 'REMOVE' } } },
      ],
    },
  ];
  const ns: MetricsEntry[] = [
    {
      overrides: [
        { match: { metric: 'REQUEST_SIZE' }, disabled: false },
        { match: { mode: 'SERVER' }, tagOverrides: { response_flags: { value: "'kept'" } } },
      ],
    },
  ];

  it('nothing configured: no stats filter (Istio defaults)', () => {
    expect(metricsPlan(DEFAULT_MESH_CONFIG, [], 'CLIENT')).toBeUndefined();
  });

  it('later layers win: re-enabled metric, upsert after remove (SERVER only)', () => {
    const client = byName(metricsPlan(DEFAULT_MESH_CONFIG, [root, ns], 'CLIENT'));
    expect(client['request_bytes']).toBeUndefined();
    expect(client['requests_total']).toEqual({ name: 'requests_total', tagsToRemove: ['response_flags'] });
    const server = byName(metricsPlan(DEFAULT_MESH_CONFIG, [root, ns], 'SERVER'));
    expect(server['requests_total']).toEqual({
      name: 'requests_total',
      dimensions: { response_flags: "'kept'" },
    });
    expect(server['tcp_sent_bytes_total']).toEqual({
      name: 'tcp_sent_bytes_total',
      dimensions: { response_flags: "'kept'" },
    });
  });

  it('a provider other than Prometheus drops every metric; defaultProviders count', () => {
    const otel: MetricsEntry[] = [{ providers: [{ name: 'otel' }] }];
    expect(metricsPlan(DEFAULT_MESH_CONFIG, [otel], 'CLIENT')?.metrics.every((m) => m.drop)).toBe(true);
    const mesh = { ...DEFAULT_MESH_CONFIG, defaultProviders: { metrics: ['none'] } };
    expect(metricsPlan(mesh, [], 'SERVER')?.metrics).toHaveLength(10);
  });

  it('reportingInterval: the most specific layer wins, as a proto Duration', () => {
    const mesh: MetricsEntry[] = [{ reportingInterval: '1m' }];
    const workload: MetricsEntry[] = [{ reportingInterval: '500ms' }];
    expect(metricsPlan(DEFAULT_MESH_CONFIG, [mesh], 'CLIENT')).toEqual({
      metrics: [],
      tcpReportingDuration: '60s',
    });
    expect(metricsPlan(DEFAULT_MESH_CONFIG, [mesh, workload], 'SERVER')?.tcpReportingDuration).toBe('0.5s');
    expect(metricsPlan(DEFAULT_MESH_CONFIG, [[{ reportingInterval: '0s' }]], 'SERVER')).toBeUndefined();
  });
});
