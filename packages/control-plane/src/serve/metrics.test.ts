import { describe, expect, it } from 'vitest';
import { XdsMetrics } from './metrics.js';

describe('XdsMetrics', () => {
  it('reports the responses counted per type, adding up across scrapes', async () => {
    const m = new XdsMetrics();
    m.countPush('RDS');
    m.countPush('RDS');
    m.countPush('EDS');
    let text = await m.registry.metrics();
    expect(text).toContain('pilot_xds_pushes{type="RDS"} 2');
    expect(text).toContain('pilot_xds_pushes{type="EDS"} 1');
    m.countPush('RDS');
    text = await m.registry.metrics();
    expect(text).toContain('pilot_xds_pushes{type="RDS"} 3');
    expect(text).toContain('pilot_xds_pushes{type="EDS"} 1');
  });

  it('reports every convergence time observed, folded in when read', async () => {
    const m = new XdsMetrics();
    for (let i = 0; i < 5000; i++) m.observeConvergence(i % 2 === 0 ? 0.005 : 0.2);
    m.observeConvergence(3);
    let text = await m.registry.metrics();
    expect(text).toContain('pilot_proxy_convergence_time_bucket{le="0.01"} 2500');
    expect(text).toContain('pilot_proxy_convergence_time_bucket{le="0.25"} 5000');
    expect(text).toContain('pilot_proxy_convergence_time_count 5001');
    m.observeConvergence(0.005);
    text = await m.registry.metrics();
    expect(text).toContain('pilot_proxy_convergence_time_bucket{le="0.01"} 2501');
    expect(text).toContain('pilot_proxy_convergence_time_count 5002');
  });
});
