import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sumOf } from './prom-text.js';
import { StepStats } from './stats.js';

describe('demo measurements', () => {
  it('computes shares and percentiles', () => {
    const s = new StepStats();
    for (let i = 1; i <= 100; i++) s.ok(i <= 90 ? 'v1' : 'v2', i);
    s.failed(500, true, 'fault');
    expect(s.share('v1')).toBeCloseTo(0.9);
    expect(s.share('v2')).toBeCloseTo(0.1);
    expect(s.percentile(50)).toBe(51);
    expect(s.percentile(99)).toBe(100);
    expect(s.requests).toBe(101);
    expect(s.expectedErrors).toBe(1);
    expect(s.unexpectedErrors).toBe(0);
  });

  it('reads istio_requests_total from Prometheus text', () => {
    const text = [
      '# HELP istio_requests_total Total requests',
      '# TYPE istio_requests_total counter',
      'istio_requests_total{reporter="destination",destination_version="v1",response_code="200"} 12',
      'istio_requests_total{reporter="destination",destination_version="v1",response_code="503"} 3',
      'istio_requests_total{reporter="source",destination_version="v1",response_code="200"} 7',
      'other_metric 1',
    ].join('\n');
    const samples = parsePrometheusText(text);
    expect(sumOf(samples, 'istio_requests_total', { reporter: 'destination' })).toBe(15);
    expect(sumOf(samples, 'istio_requests_total', { response_code: '503' })).toBe(3);
  });
});
