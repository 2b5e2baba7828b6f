// Health-check state over a host list, with a fake probe (the network probes are exercised in
// test/health-checks.test.ts): thresholds both ways, and state kept across an EDS replacement.
import { afterEach, describe, expect, it } from 'vitest';
import { makeHost, type Host } from '../endpoint/host.js';
import { HealthChecker, type HealthCheckSpec } from './health-checker.js';

const checkers: HealthChecker[] = [];
afterEach(() => checkers.splice(0).forEach((c) => c.close()));

/** A checker whose fake probe answers `verdict()`; resolves `next()` after each result. */
function setup(hosts: Host[], verdict: () => boolean, thresholds = { healthy: 2, unhealthy: 2 }) {
  let wake: (() => void) | undefined;
  const spec: HealthCheckSpec = {
    timeoutMs: 1000,
    intervalMs: 5,
    unhealthyIntervalMs: 5,
    noTrafficIntervalMs: 5,
    healthyThreshold: thresholds.healthy,
    unhealthyThreshold: thresholds.unhealthy,
    probe: () => Promise.resolve(verdict()),
  };
  const transitions: string[] = [];
  const c = new HealthChecker(
    spec,
    () => hosts,
    () => true,
    {
      attempt: () => {},
      result: () => wake?.(),
      transition: (h, healthy) => transitions.push(`${h.key} ${healthy ? 'healthy' : 'unhealthy'}`),
    },
  );
  checkers.push(c);
  const next = (): Promise<void> => new Promise((r) => (wake = r));
  return { c, next, transitions };
}

describe('HealthChecker', () => {
  it('starts hosts failed, one success makes them healthy, unhealthy_threshold failures fail them', async () => {
    const hosts = [makeHost('127.0.0.1', 1)];
    let ok = true;
    const { next, transitions } = setup(hosts, () => ok);
    expect(hosts[0]?.failedActiveHc).toBe(true);
    await next();
    expect(hosts[0]?.failedActiveHc).toBe(false);
    ok = false;
    await next();
    expect(hosts[0]?.failedActiveHc).toBe(false); // one failure of two
    await next();
    expect(hosts[0]?.failedActiveHc).toBe(true);
    ok = true;
    await next();
    expect(hosts[0]?.failedActiveHc).toBe(true); // one success of two
    await next();
    expect(hosts[0]?.failedActiveHc).toBe(false);
    expect(transitions).toEqual(['127.0.0.1:1 healthy', '127.0.0.1:1 unhealthy', '127.0.0.1:1 healthy']);
  });

  it('keeps a host healthy when an EDS update replaces its Host object', async () => {
    const hosts = [makeHost('127.0.0.1', 1)];
    const { c, next } = setup(hosts, () => true);
    await next();
    // endpoints-from-assignment copies the flag to the new object.
    hosts[0] = { ...hosts[0]! };
    c.hostsChanged();
    expect(hosts[0].failedActiveHc).toBe(false);
    hosts.push(makeHost('127.0.0.1', 2));
    c.hostsChanged();
    expect(hosts[1]?.failedActiveHc).toBe(true); // a new host starts failed
  });
});
