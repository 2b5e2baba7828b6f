// Which proxy binaries get the VHDS default (only skein-proxy), and how the flag meets the type.
import { describe, expect, it } from 'vitest';
import { bootstrapOptionsFromFlags, isSkeinProxy, type BootstrapFlags } from './bootstrap-flags.js';

const flags: BootstrapFlags = {
  type: 'sidecar',
  podName: 'p',
  namespace: 'ns',
  podIp: '10.0.0.1',
  serviceAccount: 'sa',
  clusterId: 'Kubernetes',
  meshId: 'cluster.local',
  label: [],
  discoveryAddress: '127.0.0.1:15010',
  sdsSocket: './sds',
  adminAddress: '127.0.0.1',
  adminPort: '15000',
  listenAddress: '0.0.0.0',
  statsPort: '15090',
  readinessPort: '15021',
  readinessSource: 'agent',
  agentAddress: '127.0.0.1',
  agentPort: '15020',
};

describe('VHDS flag', () => {
  it('recognises skein-proxy binaries and nothing else', () => {
    expect(isSkeinProxy('/app/bin/skein-proxy')).toBe(true);
    expect(isSkeinProxy('skein-proxy')).toBe(true);
    expect(isSkeinProxy('/repo/packages/proxy/dist/main.js')).toBe(true);
    expect(isSkeinProxy('/usr/local/bin/envoy')).toBe(false);
    expect(isSkeinProxy('/repo/packages/agent/dist/main.js')).toBe(false);
  });

  it('is on for sidecars unless turned off, and off for routers', () => {
    expect(bootstrapOptionsFromFlags(flags).vhds).toBe(true);
    expect(bootstrapOptionsFromFlags({ ...flags, vhds: true }).vhds).toBe(true);
    expect(bootstrapOptionsFromFlags({ ...flags, vhds: false }).vhds).toBe(false);
    expect(bootstrapOptionsFromFlags({ ...flags, type: 'router', vhds: true }).vhds).toBe(false);
  });
});
