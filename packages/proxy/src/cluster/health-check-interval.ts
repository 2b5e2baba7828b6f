// The wait before a host's next active health check, from the HealthCheck's intervals and
// jitters as Envoy documents them: `no_traffic_interval` (`no_traffic_healthy_interval` for a
// healthy host) until the cluster carries traffic, `interval` for healthy hosts,
// `unhealthy_interval` for unhealthy ones, the edge intervals for the check right after a host
// changed state, plus `interval_jitter` and `interval_jitter_percent`; `initial_jitter` delays a
// host's first check. Pure: the random source is a parameter.
import type { clusterV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';

type HealthCheckJson = NonNullable<clusterV3.ClusterJson['healthChecks']>[number];

export interface CheckIntervals {
  intervalMs: number;
  unhealthyIntervalMs: number;
  unhealthyEdgeIntervalMs: number;
  healthyEdgeIntervalMs: number;
  noTrafficIntervalMs: number;
  noTrafficHealthyIntervalMs: number;
  /** Up to this many ms added to every wait. */
  intervalJitterMs: number;
  /** Up to this percentage of the wait added to it. */
  intervalJitterPercent: number;
  /** A host's first check waits up to this many ms. */
  initialJitterMs: number;
}

/** The host's state after a check, and whether that check changed it. */
export interface CheckOutcome {
  hadTraffic: boolean;
  healthy: boolean;
  changed: boolean;
}

/** The intervals of a `health_checks` entry with Envoy's defaults (interval given). */
export function intervalsOf(hc: HealthCheckJson, intervalMs: number): CheckIntervals {
  const unhealthy = durationMs(hc.unhealthyInterval) ?? intervalMs;
  const noTraffic = durationMs(hc.noTrafficInterval) ?? 60_000;
  return {
    intervalMs,
    unhealthyIntervalMs: unhealthy,
    unhealthyEdgeIntervalMs: durationMs(hc.unhealthyEdgeInterval) ?? unhealthy,
    healthyEdgeIntervalMs: durationMs(hc.healthyEdgeInterval) ?? intervalMs,
    noTrafficIntervalMs: noTraffic,
    noTrafficHealthyIntervalMs: durationMs(hc.noTrafficHealthyInterval) ?? noTraffic,
    intervalJitterMs: durationMs(hc.intervalJitter) ?? 0,
    intervalJitterPercent: Math.max(0, hc.intervalJitterPercent ?? 0),
    initialJitterMs: durationMs(hc.initialJitter) ?? 0,
  };
}

/** The shortest wait these intervals can give (the checker's scheduling granularity). */
export function shortestWaitMs(i: CheckIntervals): number {
  return Math.min(
    i.intervalMs,
    i.unhealthyIntervalMs,
    i.unhealthyEdgeIntervalMs,
    i.healthyEdgeIntervalMs,
    i.noTrafficIntervalMs,
    i.noTrafficHealthyIntervalMs,
  );
}

/** The wait before the next check of a host; `random` returns [0, 1). */
export function nextCheckDelayMs(i: CheckIntervals, o: CheckOutcome, random: () => number): number {
  let base: number;
  if (!o.hadTraffic) base = o.healthy ? i.noTrafficHealthyIntervalMs : i.noTrafficIntervalMs;
  else if (o.healthy) base = o.changed ? i.healthyEdgeIntervalMs : i.intervalMs;
  else base = o.changed ? i.unhealthyEdgeIntervalMs : i.unhealthyIntervalMs;
  let wait = base;
  if (i.intervalJitterPercent > 0) wait += Math.floor(random() * ((base * i.intervalJitterPercent) / 100));
  if (i.intervalJitterMs > 0) wait += Math.floor(random() * i.intervalJitterMs);
  return wait;
}

/** The wait before a host's first check. */
export function initialDelayMs(i: CheckIntervals, random: () => number): number {
  return i.initialJitterMs > 0 ? Math.floor(random() * i.initialJitterMs) : 0;
}
