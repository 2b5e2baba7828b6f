// Health-check state over a host list, with a fake probe (the network probes are exercised in
// test/health-checks.test.ts): thresholds both ways, and state kept across an EDS replacement.
import { afterEach, describe, expect, it } from 'vitest';
import { makeHost, type Host } from '../endpoint/host.js';
import { HealthChecker, type HealthCheckSpec } from './health-checker.js';
import { intervalsOf } from './health-check-interval.js';

/** Every interval `ms` (no jitter). */
const every = (ms: number) => intervalsOf({ noTrafficInterval: `${ms / 1000}s` }, ms);

const checkers: HealthChecker[] = [];
afterEach(() => checkers.splice(0).forEach((c) => c.close()));

/** A checker whose fake probe answers `verdict()`; resolves `next()` after each result. */
function setup(hosts: Host[], verdict: () => boolean, thresholds = { healthy: 2, unhealthy: 2 }) {
  let wake: (() => void) | undefined;
  const spec: HealthCheckSpec = {
    timeoutMs: 1000,
    ...every(5),
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
    ...every(5),
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

describe('HealthChecker timing', () => {
  const one = [makeHost('127.0.0.1', 1)];
  it("delays each host's first check by its initial jitter", async () => {
    const calls: number[] = [];
    let wake: () => void = () => {};
    const first = new Promise<void>((r) => (wake = r));
    const t0 = Date.now();
    const c = new HealthChecker(
      {
        timeoutMs: 1000,
        ...intervalsOf({ initialJitter: '0.2s' }, 1000),
        healthyThreshold: 1,
        unhealthyThreshold: 1,
        random: () => 0.5,
        probe: () => {
          calls.push(Date.now() - t0);
          wake();
          return Promise.resolve(true);
        },
      },
      () => one,
      () => true,
      { attempt: () => {}, result: () => {}, transition: () => {} },
    );
    checkers.push(c);
    await first;
    expect(calls[0]).toBeGreaterThanOrEqual(99); // half the 200 ms jitter
  });

  it('checks again after the edge interval when a check changed the host, then after the steady one', async () => {
    const verdicts = [true, true, false, false, false];
    const at: number[] = [];
    let wake: () => void = () => {};
    const c = new HealthChecker(
      {
        timeoutMs: 1000,
        ...intervalsOf(
          { unhealthyInterval: '0.3s', unhealthyEdgeInterval: '0.01s', healthyEdgeInterval: '0.01s' },
          300,
        ),
        healthyThreshold: 1,
        unhealthyThreshold: 1,
        probe: () => {
          at.push(Date.now());
          wake();
          return Promise.resolve(verdicts[at.length - 1] ?? false);
        },
      },
      () => one,
      () => true,
      { attempt: () => {}, result: () => {}, transition: () => {} },
    );
    checkers.push(c);
    while (at.length < 5) await new Promise<void>((r) => (wake = r));
    const gaps = at.slice(1).map((t, k) => t - (at[k] ?? 0));
    // healthy (edge) → healthy → unhealthy (edge) → unhealthy
    expect(gaps[0]).toBeLessThan(150);
    expect(gaps[1]).toBeGreaterThanOrEqual(290);
    expect(gaps[2]).toBeLessThan(150);
    expect(gaps[3]).toBeGreaterThanOrEqual(290);
  });
});
