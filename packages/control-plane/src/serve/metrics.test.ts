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
});
