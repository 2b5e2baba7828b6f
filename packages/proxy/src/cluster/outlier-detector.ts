// Passive outlier detection as Envoy does it. Per request: consecutive 5xx, consecutive gateway
// failures and (with split_external_local_origin_errors) consecutive local-origin failures such
// as connect failures. Every `interval`: success-rate ejection (hosts below mean − stdev_factor ×
// stdev, when enough hosts have enough requests) and failure-percentage ejection, for external
// and, when split, local-origin results; the ejection-time multiplier of hosts left alone
// decreases. An ejection lasts base_ejection_time × multiplier, capped by max_ejection_time, plus
// up to max_ejection_time_jitter; an ejection happens only while the ejected hosts stay within
// max_ejection_percent (one host whatever the percentage with always_eject_one_host) — one refused
// by it is reported as an overflow (Envoy's ejections_overflow), before any enforcing roll; like Envoy,
// an ejected host returns at the first interval tick after its ejection time is over, or at a
// successful active health check (successful_active_health_check_uneject_host, default true).
// A detector whose enforcing percentage is 0 still reports its outliers (ejections_detected_*).
import type { outlierDetectionV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';
import type { Host } from '../endpoint/host.js';

export interface OutlierConfig {
  intervalMs: number;
  consecutive5xx: number;
  enforcing5xx: number;
  consecutiveGateway: number;
  enforcingGateway: number;
  splitLocalOrigin: boolean;
  consecutiveLocalOrigin: number;
  enforcingLocalOrigin: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  maxEjectionPercent: number;
  maxEjectionJitterMs: number;
  alwaysEjectOneHost: boolean;
  unejectOnActiveHealthCheck: boolean;
  successRate: { minimumHosts: number; requestVolume: number; stdevFactor: number; enforcing: number };
  enforcingLocalOriginSuccessRate: number;
  failurePercentage: { threshold: number; minimumHosts: number; requestVolume: number; enforcing: number };
  enforcingLocalOriginFailurePercentage: number;
}

/** Envoy's defaults for every field left unset. */
export function outlierConfigOf(
  od: outlierDetectionV3.OutlierDetectionJson | undefined,
): OutlierConfig | undefined {
  if (!od) return undefined;
  const base = durationMs(od.baseEjectionTime) ?? 30_000;
  return {
    intervalMs: durationMs(od.interval) ?? 10_000,
    consecutive5xx: od.consecutive5xx ?? 5,
    enforcing5xx: od.enforcingConsecutive5xx ?? 100,
    consecutiveGateway: od.consecutiveGatewayFailure ?? 5,
    enforcingGateway: od.enforcingConsecutiveGatewayFailure ?? 0,
    splitLocalOrigin: od.splitExternalLocalOriginErrors === true,
    consecutiveLocalOrigin: od.consecutiveLocalOriginFailure ?? 5,
    enforcingLocalOrigin: od.enforcingConsecutiveLocalOriginFailure ?? 100,
    baseEjectionMs: base,
    maxEjectionMs: durationMs(od.maxEjectionTime) ?? Math.max(300_000, base),
    maxEjectionPercent: od.maxEjectionPercent ?? 10,
    maxEjectionJitterMs: durationMs(od.maxEjectionTimeJitter) ?? 0,
    alwaysEjectOneHost: od.alwaysEjectOneHost === true,
    unejectOnActiveHealthCheck: od.successfulActiveHealthCheckUnejectHost !== false,
    successRate: {
      minimumHosts: od.successRateMinimumHosts ?? 5,
      requestVolume: od.successRateRequestVolume ?? 100,
      stdevFactor: (od.successRateStdevFactor ?? 1900) / 1000,
      enforcing: od.enforcingSuccessRate ?? 100,
    },
    enforcingLocalOriginSuccessRate: od.enforcingLocalOriginSuccessRate ?? 100,
    failurePercentage: {
      threshold: od.failurePercentageThreshold ?? 85,
      minimumHosts: od.failurePercentageMinimumHosts ?? 5,
      requestVolume: od.failurePercentageRequestVolume ?? 50,
      enforcing: od.enforcingFailurePercentage ?? 0,
    },
    enforcingLocalOriginFailurePercentage: od.enforcingFailurePercentageLocalOrigin ?? 0,
  };
}

/** Why a host was ejected, named as Envoy's `outlier_detection.ejections_*_<kind>` stats name it. */
export type OutlierEvent =
  | 'consecutive_5xx'
  | 'consecutive_gateway_failure'
  | 'consecutive_local_origin_failure'
  | 'success_rate'
  | 'local_origin_success_rate'
  | 'failure_percentage'
  | 'local_origin_failure_percentage';

/** One request's result: an HTTP status, or a local-origin failure. */
export type OutlierOutcome = number | 'connect-failure' | 'reset' | 'timeout';

export interface OutlierReporter {
  /**
   * A host was ejected (enforced), or found an outlier but left in by the enforcing percentage,
   * or (`overflow`) left in because max_ejection_percent had no room; 'uneject': an ejected host
   * returned.
   */
  (host: Host, why: OutlierEvent | 'uneject', enforced: boolean, overflow?: boolean): void;
}

interface Counts {
  total: number;
  failed: number;
}

interface HostState {
  consecutiveLocal: number;
  ejectedThisInterval: boolean;
  /** When an ejected host may return (at the next interval tick from then). */
  ejectionEnds?: number | undefined;
  external: Counts;
  local: Counts;
}

export class OutlierDetector {
  /** By host key: an EDS update replaces Host objects but not the hosts' history. */
  private readonly state = new Map<string, HostState>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: OutlierConfig,
    private readonly hosts: () => readonly Host[],
    private readonly report: OutlierReporter = () => {},
    private readonly random: () => number = Math.random,
  ) {
    this.timer = setInterval(() => this.runInterval(Date.now()), Math.max(1, config.intervalMs));
    this.timer.unref();
  }

  private of(host: Host): HostState {
    let s = this.state.get(host.key);
    if (!s) {
      s = {
        consecutiveLocal: 0,
        ejectedThisInterval: false,
        external: { total: 0, failed: 0 },
        local: { total: 0, failed: 0 },
      };
      this.state.set(host.key, s);
    }
    return s;
  }

  /** Records one request's outcome. */
  record(host: Host, outcome: OutlierOutcome, now: number): void {
    const s = this.of(host);
    const c = this.config;
    if (typeof outcome !== 'number' && c.splitLocalOrigin) {
      s.local.total++;
      s.local.failed++;
      s.consecutiveLocal++;
      if (s.consecutiveLocal >= c.consecutiveLocalOrigin) {
        s.consecutiveLocal = 0;
        this.maybeEject(host, now, 'consecutive_local_origin_failure', c.enforcingLocalOrigin);
      }
      return;
    }
    if (c.splitLocalOrigin) {
      // A response arrived: the connection worked (a local-origin success).
      s.local.total++;
      s.consecutiveLocal = 0;
    }
    // Without the split, local-origin failures count as the gateway errors they surface as.
    const status = typeof outcome === 'number' ? outcome : outcome === 'timeout' ? 504 : 503;
    s.external.total++;
    if (status < 500) {
      host.consecutive5xx = 0;
      host.consecutiveGatewayFailures = 0;
      return;
    }
    s.external.failed++;
    host.consecutive5xx++;
    if (status === 502 || status === 503 || status === 504) host.consecutiveGatewayFailures++;
    else host.consecutiveGatewayFailures = 0;
    if (host.consecutiveGatewayFailures >= c.consecutiveGateway) {
      host.consecutiveGatewayFailures = 0;
      // Detected either way (enforcing 0 by default); an ejected host's 5xx count starts over.
      if (this.maybeEject(host, now, 'consecutive_gateway_failure', c.enforcingGateway)) {
        host.consecutive5xx = 0;
        return;
      }
    }
    if (host.consecutive5xx >= c.consecutive5xx) {
      host.consecutive5xx = 0;
      host.consecutiveGatewayFailures = 0;
      this.maybeEject(host, now, 'consecutive_5xx', c.enforcing5xx);
    }
  }

  /** One detection interval: success-rate and failure-percentage ejection, then counters reset. */
  runInterval(now: number): void {
    const all = this.hosts();
    const c = this.config;
    for (const h of all) {
      const s = this.of(h);
      if (s.ejectionEnds !== undefined && s.ejectionEnds <= now) {
        s.ejectionEnds = undefined;
        s.ejectedThisInterval = true;
        h.ejectedUntil = 0;
        this.report(h, 'uneject', true);
      } else if (h.ejectedUntil <= now && h.ejections > 0 && !s.ejectedThisInterval) {
        // A host that served the whole interval unejected earns back one step of its multiplier.
        h.ejections--;
      }
    }
    this.bySuccessRate(all, now, 'external', 'success_rate', c.successRate.enforcing);
    this.byFailurePercentage(all, now, 'external', 'failure_percentage', c.failurePercentage.enforcing);
    if (c.splitLocalOrigin) {
      this.bySuccessRate(all, now, 'local', 'local_origin_success_rate', c.enforcingLocalOriginSuccessRate);
      this.byFailurePercentage(
        all,
        now,
        'local',
        'local_origin_failure_percentage',
        c.enforcingLocalOriginFailurePercentage,
      );
    }
    const present = new Set(all.map((h) => h.key));
    for (const k of this.state.keys()) if (!present.has(k)) this.state.delete(k);
    for (const h of all) {
      const s = this.of(h);
      s.external = { total: 0, failed: 0 };
      s.local = { total: 0, failed: 0 };
      s.ejectedThisInterval = false;
    }
  }

  private bySuccessRate(
    all: readonly Host[],
    now: number,
    origin: 'external' | 'local',
    why: OutlierEvent,
    enforcing: number,
  ): void {
    const sr = this.config.successRate;
    const rates: { host: Host; rate: number }[] = [];
    for (const h of all) {
      const n = this.of(h)[origin];
      if (n.total >= sr.requestVolume && h.ejectedUntil <= now)
        rates.push({ host: h, rate: (100 * (n.total - n.failed)) / n.total });
    }
    if (rates.length < sr.minimumHosts || rates.length === 0) return;
    const mean = rates.reduce((a, r) => a + r.rate, 0) / rates.length;
    const variance = rates.reduce((a, r) => a + (r.rate - mean) ** 2, 0) / rates.length;
    const threshold = mean - sr.stdevFactor * Math.sqrt(variance);
    for (const r of rates) if (r.rate < threshold) this.maybeEject(r.host, now, why, enforcing);
  }

  private byFailurePercentage(
    all: readonly Host[],
    now: number,
    origin: 'external' | 'local',
    why: OutlierEvent,
    enforcing: number,
  ): void {
    const fp = this.config.failurePercentage;
    const eligible = all.filter((h) => this.of(h)[origin].total >= fp.requestVolume && h.ejectedUntil <= now);
    if (eligible.length < fp.minimumHosts || eligible.length === 0) return;
    for (const h of eligible) {
      const n = this.of(h)[origin];
      if ((100 * n.failed) / n.total >= fp.threshold) this.maybeEject(h, now, why, enforcing);
    }
  }

  /**
   * Ejects when max_ejection_percent leaves room (Envoy: the ejected share after this ejection
   * within the percentage, or none ejected yet with always_eject_one_host) and then the enforcing
   * percentage says so. Envoy's order: no room is an overflow whatever the enforcing percentage;
   * an outlier the roll leaves in is detected only. True when ejected.
   */
  private maybeEject(host: Host, now: number, why: OutlierEvent, enforcing: number): boolean {
    if (host.ejectedUntil > now) return false;
    const all = this.hosts();
    const ejected = all.filter((h) => h.ejectedUntil > now).length;
    const within = (100 * (ejected + 1)) / Math.max(1, all.length) <= this.config.maxEjectionPercent;
    if (!within && !(this.config.alwaysEjectOneHost && ejected === 0)) {
      this.report(host, why, false, true);
      return false;
    }
    const enforced = enforcing > 0 && this.random() * 100 < enforcing;
    if (!enforced) {
      this.report(host, why, false);
      return false;
    }
    host.ejections++;
    const s = this.of(host);
    const jitter =
      this.config.maxEjectionJitterMs > 0 ? Math.floor(this.random() * this.config.maxEjectionJitterMs) : 0;
    s.ejectionEnds =
      now + Math.min(this.config.baseEjectionMs * host.ejections, this.config.maxEjectionMs) + jitter;
    // Out of load balancing until an interval tick finds its ejection time over.
    host.ejectedUntil = Number.MAX_SAFE_INTEGER;
    s.ejectedThisInterval = true;
    this.report(host, why, true);
    return true;
  }

  /**
   * An active health check of the host passed: with successful_active_health_check_uneject_host
   * an ejected host returns now, its outlier counters cleared (its ejection multiplier kept).
   */
  activeCheckPassed(host: Host): void {
    if (!this.config.unejectOnActiveHealthCheck) return;
    const s = this.state.get(host.key);
    if (s?.ejectionEnds === undefined) return;
    s.ejectionEnds = undefined;
    s.consecutiveLocal = 0;
    s.external = { total: 0, failed: 0 };
    s.local = { total: 0, failed: 0 };
    host.consecutive5xx = 0;
    host.consecutiveGatewayFailures = 0;
    host.ejectedUntil = 0;
    this.report(host, 'uneject', true);
  }

  /** When an ejected host's ejection time ends (it returns at the next tick), if it is ejected. */
  ejectionEnds(host: Host): number | undefined {
    return this.state.get(host.key)?.ejectionEnds;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
