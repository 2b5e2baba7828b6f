// Outlier detection over a fixed host list, driven by hand (record + runInterval at given times).
import { afterEach, describe, expect, it } from 'vitest';
import { isAvailable, makeHost, type Host } from '../endpoint/host.js';
import { OutlierDetector, outlierConfigOf, type OutlierEvent } from './outlier-detector.js';

const detectors: OutlierDetector[] = [];
afterEach(() => detectors.splice(0).forEach((d) => d.close()));

function setup(
  n: number,
  od: Record<string, unknown>,
): {
  hosts: Host[];
  d: OutlierDetector;
  events: { host: string; why: OutlierEvent | 'uneject'; enforced: boolean; overflow?: true }[];
} {
  const hosts = Array.from({ length: n }, (_, i) => makeHost('127.0.0.1', 1000 + i));
  const events: { host: string; why: OutlierEvent | 'uneject'; enforced: boolean; overflow?: true }[] = [];
  const cfg = outlierConfigOf({ interval: '3600s', baseEjectionTime: '10s', maxEjectionPercent: 100, ...od });
  const d = new OutlierDetector(
    cfg!,
    () => hosts,
    (h, why, enforced, overflow) =>
      events.push({ host: h.key, why, enforced, ...(overflow ? { overflow: true as const } : {}) }),
    () => 0.5,
  );
  detectors.push(d);
  return { hosts, d, events };
}

describe('success rate', () => {
  it('ejects the host below mean − stdev_factor × stdev', () => {
    const { hosts, d, events } = setup(5, {
      consecutive5xx: 1000,
      successRateMinimumHosts: 5,
      successRateRequestVolume: 10,
    });
    for (const h of hosts) for (let i = 0; i < 20; i++) d.record(h, h === hosts[4] && i % 2 ? 503 : 200, 0);
    d.runInterval(1);
    expect(events).toEqual([{ host: hosts[4]?.key, why: 'success_rate', enforced: true }]);
    expect(d.ejectionEnds(hosts[4]!)).toBe(1 + 10_000);
  });

  it('does nothing with fewer than success_rate_minimum_hosts hosts of enough volume', () => {
    const { hosts, d, events } = setup(5, {
      consecutive5xx: 1000,
      consecutiveGatewayFailure: 1000,
      successRateRequestVolume: 10,
    });
    for (const h of hosts.slice(0, 4))
      for (let i = 0; i < 20; i++) d.record(h, h === hosts[0] ? 503 : 200, 0);
    d.runInterval(1);
    expect(events).toEqual([]);
  });

  it('a stricter stdev factor leaves a mild outlier in', () => {
    const { hosts, d, events } = setup(5, {
      consecutive5xx: 1000,
      successRateRequestVolume: 10,
      successRateStdevFactor: 3000,
    });
    for (const h of hosts) for (let i = 0; i < 20; i++) d.record(h, h === hosts[4] && i % 2 ? 503 : 200, 0);
    d.runInterval(1);
    expect(events).toEqual([]);
  });
});

describe('failure percentage', () => {
  it('ejects hosts at or above the threshold only when enforced', () => {
    const od = {
      consecutive5xx: 1000,
      failurePercentageMinimumHosts: 2,
      failurePercentageRequestVolume: 10,
      failurePercentageThreshold: 50,
    };
    const off = setup(2, od);
    for (const h of off.hosts)
      for (let i = 0; i < 10; i++) off.d.record(h, h === off.hosts[0] ? 500 : 200, 0);
    off.d.runInterval(1);
    expect(off.events).toEqual([{ host: off.hosts[0]?.key, why: 'failure_percentage', enforced: false }]);
    const on = setup(2, { ...od, enforcingFailurePercentage: 100 });
    for (const h of on.hosts) for (let i = 0; i < 10; i++) on.d.record(h, h === on.hosts[0] ? 500 : 200, 0);
    on.d.runInterval(1);
    expect(on.events).toEqual([{ host: on.hosts[0]?.key, why: 'failure_percentage', enforced: true }]);
  });
});

describe('local origin errors', () => {
  it('without the split, connect failures count as 5xx', () => {
    const { hosts, d, events } = setup(2, { consecutive5xx: 3 });
    const h = hosts[0]!;
    for (let i = 0; i < 3; i++) d.record(h, 'connect-failure', 0);
    expect(events.map((e) => e.why)).toEqual(['consecutive_5xx']);
  });

  it('with split_external_local_origin_errors, they count apart from 5xx', () => {
    const { hosts, d, events } = setup(2, {
      consecutive5xx: 3,
      splitExternalLocalOriginErrors: true,
      consecutiveLocalOriginFailure: 2,
    });
    const h = hosts[0]!;
    d.record(h, 503, 0);
    d.record(h, 503, 0);
    d.record(h, 'connect-failure', 0);
    expect(events).toEqual([]);
    d.record(h, 'connect-failure', 0);
    expect(events.map((e) => e.why)).toEqual(['consecutive_local_origin_failure']);
    // The local failures neither advanced nor reset the external 5xx count.
    expect(h.consecutive5xx).toBe(2);
  });

  it('a response between local failures resets the local count', () => {
    const { hosts, d, events } = setup(2, {
      splitExternalLocalOriginErrors: true,
      consecutiveLocalOriginFailure: 2,
    });
    const h = hosts[0]!;
    d.record(h, 'connect-failure', 0);
    d.record(h, 200, 0);
    d.record(h, 'connect-failure', 0);
    expect(events).toEqual([]);
  });
});

describe('ejection time', () => {
  it('grows with each ejection, returns hosts at interval ticks, and decays over quiet intervals', () => {
    const { hosts, d, events } = setup(2, { consecutive5xx: 1 });
    const h = hosts[0]!;
    d.record(h, 500, 0);
    expect(d.ejectionEnds(h)).toBe(10_000);
    expect(isAvailable(h, 9_000)).toBe(false);
    d.runInterval(9_000); // not over yet
    expect(isAvailable(h, 12_000)).toBe(false); // over, but no tick has run since
    d.runInterval(12_000);
    expect(isAvailable(h, 12_000)).toBe(true);
    expect(events.map((e) => e.why)).toEqual(['consecutive_5xx', 'uneject']);
    d.record(h, 500, 20_000); // second ejection: twice as long
    expect(d.ejectionEnds(h)).toBe(40_000);
    d.runInterval(40_000);
    d.runInterval(40_001);
    d.runInterval(40_002);
    expect(h.ejections).toBe(0);
    d.record(h, 500, 50_000);
    expect(d.ejectionEnds(h)).toBe(60_000);
  });

  it("keeps a host's history when an EDS update replaces its Host object", () => {
    const { hosts, d } = setup(2, { consecutive5xx: 1 });
    d.record(hosts[0]!, 500, 0);
    const replaced = { ...hosts[0]! };
    hosts[0] = replaced;
    d.runInterval(10_000);
    expect(isAvailable(replaced, 10_000)).toBe(true);
  });

  it('never ejects past max_ejection_percent: 10 % of four hosts is none', () => {
    const { hosts, d, events } = setup(4, { consecutive5xx: 1, maxEjectionPercent: 10 });
    for (const h of hosts) d.record(h, 500, 0);
    expect(events.filter((e) => e.enforced)).toHaveLength(0);
    // 50 % of four: two.
    const half = setup(4, { consecutive5xx: 1, maxEjectionPercent: 50 });
    for (const h of half.hosts) half.d.record(h, 500, 0);
    expect(half.events.filter((e) => e.enforced)).toHaveLength(2);
  });

  it('an ejection refused by max_ejection_percent is an overflow (ejections_overflow), before the enforcing roll', () => {
    const { hosts, d, events } = setup(4, { consecutive5xx: 1, maxEjectionPercent: 50 });
    for (const h of hosts) d.record(h, 500, 0);
    expect(events.map((e) => [e.host, e.enforced, e.overflow ?? false])).toEqual([
      [hosts[0]?.key, true, false],
      [hosts[1]?.key, true, false],
      [hosts[2]?.key, false, true],
      [hosts[3]?.key, false, true],
    ]);
    // Envoy checks the room first: with enforcing 0 a host past the percentage still overflows.
    const detectedOnly = setup(2, { consecutive5xx: 1, enforcingConsecutive5xx: 0, maxEjectionPercent: 10 });
    detectedOnly.d.record(detectedOnly.hosts[0]!, 500, 0);
    expect(detectedOnly.events).toEqual([
      { host: detectedOnly.hosts[0]?.key, why: 'consecutive_5xx', enforced: false, overflow: true },
    ]);
    // always_eject_one_host: the first goes out, the second overflows.
    const one = setup(3, { consecutive5xx: 1, maxEjectionPercent: 0, alwaysEjectOneHost: true });
    for (const h of one.hosts.slice(0, 2)) one.d.record(h, 500, 0);
    expect(one.events.map((e) => [e.enforced, e.overflow ?? false])).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  it('always_eject_one_host: one host whatever max_ejection_percent, not two', () => {
    const { hosts, d, events } = setup(4, {
      consecutive5xx: 1,
      maxEjectionPercent: 0,
      alwaysEjectOneHost: true,
    });
    for (const h of hosts) d.record(h, 500, 0);
    expect(events.filter((e) => e.enforced)).toHaveLength(1);
  });
});

describe('Envoy 1.2x additions', () => {
  it('max_ejection_time_jitter adds up to its amount to the ejection time', () => {
    // The fixed random source gives half the jitter.
    const { hosts, d } = setup(2, { consecutive5xx: 1, maxEjectionTimeJitter: '4s' });
    d.record(hosts[0]!, 500, 100);
    expect(d.ejectionEnds(hosts[0]!)).toBe(100 + 10_000 + 2_000);
  });

  it('reports consecutive gateway failures as detected with enforcing_consecutive_gateway_failure 0', () => {
    const { hosts, d, events } = setup(2, { consecutive5xx: 1000, consecutiveGatewayFailure: 3 });
    for (let i = 0; i < 3; i++) d.record(hosts[0]!, 503, 0);
    expect(events).toEqual([{ host: hosts[0]?.key, why: 'consecutive_gateway_failure', enforced: false }]);
    expect(isAvailable(hosts[0]!, 1)).toBe(true);
    // A 500 is no gateway error: it breaks the run.
    for (const s of [503, 503, 500, 503]) d.record(hosts[0]!, s, 0);
    expect(events).toHaveLength(1);
  });

  it('still ejects by consecutive 5xx when the gateway detection is not enforced', () => {
    const { hosts, d, events } = setup(2, { consecutive5xx: 2, consecutiveGatewayFailure: 2 });
    for (let i = 0; i < 2; i++) d.record(hosts[0]!, 503, 0);
    expect(events).toEqual([
      { host: hosts[0]?.key, why: 'consecutive_gateway_failure', enforced: false },
      { host: hosts[0]?.key, why: 'consecutive_5xx', enforced: true },
    ]);
  });

  it('a successful active health check returns an ejected host, unless told not to', () => {
    const { hosts, d, events } = setup(2, { consecutive5xx: 1 });
    d.record(hosts[0]!, 500, 0);
    expect(isAvailable(hosts[0]!, 1)).toBe(false);
    d.activeCheckPassed(hosts[0]!);
    expect(isAvailable(hosts[0]!, 1)).toBe(true);
    expect(d.ejectionEnds(hosts[0]!)).toBeUndefined();
    expect(events.at(-1)).toEqual({ host: hosts[0]?.key, why: 'uneject', enforced: true });

    const kept = setup(2, { consecutive5xx: 1, successfulActiveHealthCheckUnejectHost: false });
    kept.d.record(kept.hosts[0]!, 500, 0);
    kept.d.activeCheckPassed(kept.hosts[0]!);
    expect(isAvailable(kept.hosts[0]!, 1)).toBe(false);
  });
});
