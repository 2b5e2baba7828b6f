// The wait before each health check: Envoy's defaults, which interval applies to which outcome,
// and the jitters with a fixed random source.
import { describe, expect, it } from 'vitest';
import { initialDelayMs, intervalsOf, nextCheckDelayMs } from './health-check-interval.js';

const none = (): number => 0;

describe('intervalsOf', () => {
  it("takes Envoy's defaults from interval, unhealthy_interval and no_traffic_interval", () => {
    expect(intervalsOf({ unhealthyInterval: '3s' }, 1000)).toEqual({
      intervalMs: 1000,
      unhealthyIntervalMs: 3000,
      unhealthyEdgeIntervalMs: 3000,
      healthyEdgeIntervalMs: 1000,
      noTrafficIntervalMs: 60_000,
      noTrafficHealthyIntervalMs: 60_000,
      intervalJitterMs: 0,
      intervalJitterPercent: 0,
      initialJitterMs: 0,
    });
    expect(intervalsOf({ noTrafficInterval: '5s' }, 1000).noTrafficHealthyIntervalMs).toBe(5000);
  });
});

describe('nextCheckDelayMs', () => {
  const i = intervalsOf(
    {
      unhealthyInterval: '2s',
      unhealthyEdgeInterval: '0.3s',
      healthyEdgeInterval: '0.4s',
      noTrafficInterval: '10s',
      noTrafficHealthyInterval: '20s',
    },
    1000,
  );

  it('picks the interval by traffic, health and whether the check changed the host', () => {
    const at = (hadTraffic: boolean, healthy: boolean, changed: boolean): number =>
      nextCheckDelayMs(i, { hadTraffic, healthy, changed }, none);
    expect(at(true, true, false)).toBe(1000);
    expect(at(true, true, true)).toBe(400);
    expect(at(true, false, false)).toBe(2000);
    expect(at(true, false, true)).toBe(300);
    // Without traffic the no-traffic intervals win, edges or not.
    expect(at(false, true, false)).toBe(20_000);
    expect(at(false, true, true)).toBe(20_000);
    expect(at(false, false, true)).toBe(10_000);
  });

  it('adds interval_jitter and interval_jitter_percent, each up to its amount', () => {
    const j = { ...i, intervalJitterMs: 100, intervalJitterPercent: 10 };
    const steady = { hadTraffic: true, healthy: true, changed: false };
    expect(nextCheckDelayMs(j, steady, none)).toBe(1000);
    expect(nextCheckDelayMs(j, steady, () => 0.5)).toBe(1000 + 50 + 50);
    expect(nextCheckDelayMs(j, steady, () => 0.999)).toBe(1000 + 99 + 99);
    // The percentage is of the wait chosen: 10 % of the unhealthy interval.
    expect(
      nextCheckDelayMs({ ...i, intervalJitterPercent: 10 }, { ...steady, healthy: false }, () => 0.5),
    ).toBe(2100);
  });
});

describe('initialDelayMs', () => {
  it('is up to initial_jitter, none without it', () => {
    const i = intervalsOf({ initialJitter: '0.2s' }, 1000);
    expect(initialDelayMs(i, () => 0.5)).toBe(100);
    expect(initialDelayMs(intervalsOf({}, 1000), () => 0.5)).toBe(0);
  });
});
