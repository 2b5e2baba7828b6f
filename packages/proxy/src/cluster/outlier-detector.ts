// Passive outlier detection: consecutive 5xx and consecutive gateway failures eject a host for
// base_ejection_time × (number of times ejected), capped by max_ejection_time, while at most
// max_ejection_percent of hosts (and always at least one) are ejected.
import type { outlierDetectionV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';
import type { Host } from '../endpoint/host.js';

export interface OutlierConfig {
  consecutive5xx: number;
  enforcing5xx: number;
  consecutiveGateway: number;
  enforcingGateway: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  maxEjectionPercent: number;
}

export function outlierConfigOf(
  od: outlierDetectionV3.OutlierDetectionJson | undefined,
): OutlierConfig | undefined {
  if (!od) return undefined;
  const base = durationMs(od.baseEjectionTime) ?? 30_000;
  return {
    consecutive5xx: od.consecutive5xx ?? 5,
    enforcing5xx: od.enforcingConsecutive5xx ?? 100,
    consecutiveGateway: od.consecutiveGatewayFailure ?? 5,
    enforcingGateway: od.enforcingConsecutiveGatewayFailure ?? 0,
    baseEjectionMs: base,
    maxEjectionMs: durationMs(od.maxEjectionTime) ?? Math.max(300_000, base),
    maxEjectionPercent: od.maxEjectionPercent ?? 10,
  };
}

export type OutlierEvent = 'ejected_consecutive_5xx' | 'ejected_consecutive_gateway_failure';

export class OutlierDetector {
  constructor(
    private readonly config: OutlierConfig,
    private readonly hosts: () => readonly Host[],
    private readonly onEject: (h: Host, why: OutlierEvent) => void = () => {},
  ) {}

  /** Records one request's outcome: an HTTP status, or 'connect-failure' / 'reset' / 'timeout'. */
  record(host: Host, outcome: number | 'connect-failure' | 'reset' | 'timeout', now: number): void {
    const gateway = typeof outcome !== 'number' || outcome === 502 || outcome === 503 || outcome === 504;
    const is5xx = typeof outcome !== 'number' || outcome >= 500;
    if (!is5xx) {
      host.consecutive5xx = 0;
      host.consecutiveGatewayFailures = 0;
      return;
    }
    host.consecutive5xx++;
    if (gateway) host.consecutiveGatewayFailures++;
    else host.consecutiveGatewayFailures = 0;
    const c = this.config;
    if (c.enforcingGateway > 0 && host.consecutiveGatewayFailures >= c.consecutiveGateway) {
      this.eject(host, now, 'ejected_consecutive_gateway_failure');
    } else if (c.enforcing5xx > 0 && host.consecutive5xx >= c.consecutive5xx) {
      this.eject(host, now, 'ejected_consecutive_5xx');
    }
  }

  private eject(host: Host, now: number, why: OutlierEvent): void {
    if (host.ejectedUntil > now) return;
    const all = this.hosts();
    const ejected = all.filter((h) => h.ejectedUntil > now).length;
    const allowed = Math.max(1, Math.floor((all.length * this.config.maxEjectionPercent) / 100));
    host.consecutive5xx = 0;
    host.consecutiveGatewayFailures = 0;
    if (ejected >= allowed) return;
    host.ejections++;
    host.ejectedUntil =
      now + Math.min(this.config.baseEjectionMs * host.ejections, this.config.maxEjectionMs);
    this.onEject(host, why);
  }
}
