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

describe('HealthChecker first round (cluster warming)', () => {
  const spec = (probe: HealthCheckSpec['probe']): HealthCheckSpec => ({
    timeoutMs: 50,
    intervalMs: 5,
    unhealthyIntervalMs: 5,
    noTrafficIntervalMs: 5,
    healthyThreshold: 1,
    unhealthyThreshold: 1,
    probe,
  });
  const start = (hosts: Host[], probe: HealthCheckSpec['probe']) => {
    let over: () => void = () => {};
    const firstRound = new Promise<void>((r) => (over = r));
    const c = new HealthChecker(
      spec(probe),
      () => hosts,
      () => true,
      {
        attempt: () => {},
        result: () => {},
        transition: () => {},
        firstRound: () => over(),
      },
    );
    checkers.push(c);
    return { c, firstRound };
  };

  it('is over once every host had a verdict, failing ones included', async () => {
    const hosts = [makeHost('127.0.0.1', 1), makeHost('127.0.0.1', 2)];
    const { c, firstRound } = start(hosts, (h) => Promise.resolve(h.port === 1));
    expect(c.firstRoundDone).toBe(false);
    await firstRound;
    expect(c.firstRoundDone).toBe(true);
    expect(hosts.map((h) => h.failedActiveHc)).toEqual([false, true]);
    // A host added later does not make the cluster warm again.
    hosts.push(makeHost('127.0.0.1', 3));
    c.hostsChanged();
    expect(c.firstRoundDone).toBe(true);
  });

  it('is over after its bound when a probe never answers, the host still failed', async () => {
    const hosts = [makeHost('127.0.0.1', 1)];
    const { c, firstRound } = start(hosts, () => new Promise(() => {}));
    const t0 = Date.now();
    await firstRound;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90); // twice the 50 ms timeout
    expect(c.firstRoundDone).toBe(true);
    expect(hosts[0]?.failedActiveHc).toBe(true);
  });

  it('with no hosts yet there is nothing to wait for', () => {
    const { c } = start([], () => Promise.resolve(true));
    expect(c.firstRoundDone).toBe(true);
  });
});
