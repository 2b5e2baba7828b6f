// Active health checking of a cluster's hosts (cluster `health_checks`), as Envoy does it: HTTP
// (path, host, expected statuses, request headers), TCP (connect, optional send/receive payloads)
// and gRPC health v1 `Check`; each host checked again after the wait health-check-interval.ts
// computes (intervals, edge intervals, jitters), each check bounded by `timeout`.
// A host is marked FAILED_ACTIVE_HC after `unhealthy_threshold` failures in a row, and healthy
// again after `healthy_threshold` successes; a new host starts failed (pending) and its first
// success alone makes it healthy; a response carrying `x-envoy-immediate-health-check-fail` fails
// it at once, whatever the threshold. The first round (every host's first verdict, bounded by
// the check's timeout) is what cluster warming waits for. The probes themselves sit behind the
// `Probe` interface.
import type { clusterV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';
import {
  initialDelayMs,
  intervalsOf,
  nextCheckDelayMs,
  type CheckIntervals,
} from './health-check-interval.js';
import type { Host } from '../endpoint/host.js';
import type { TlsContext } from '../transport-socket/tls-context.js';

type HealthCheckJson = NonNullable<clusterV3.ClusterJson['healthChecks']>[number];

/** A probe's answer for a host that asked to be failed at once (x-envoy-immediate-health-check-fail). */
export const IMMEDIATE_FAIL = 'immediate-fail';

/**
 * One check of one host: resolves true when healthy; rejects or resolves false when not, or
 * IMMEDIATE_FAIL when the host asked to be failed now.
 */
export type Probe = ((host: Host, signal: AbortSignal) => Promise<boolean | typeof IMMEDIATE_FAIL>) & {
  /** Releases what the probe keeps between checks (reused connections). */
  close?: () => void;
};

export interface HealthCheckSpec extends CheckIntervals {
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  probe: Probe;
  /** [0, 1) for the jitters (Math.random unless a test fixes it). */
  random?: () => number;
}

export interface HealthCheckEvents {
  attempt(): void;
  result(host: Host, ok: boolean): void;
  /** The host changed state (healthy → failed or back). */
  transition(host: Host, healthy: boolean): void;
  /** Every host had its first verdict (or the bound passed): the cluster may finish warming. */
  firstRound?(): void;
}

interface HostState {
  successes: number;
  failures: number;
  /** Never checked successfully yet: the first success makes it healthy. */
  pending: boolean;
  nextDueMs: number;
  inFlight: boolean;
  /** Had a verdict (either way) at least once. */
  checked: boolean;
}

/**
 * Makes the probe for a health check; `tlsFor` gives the UpstreamTlsContext a host's checks use
 * (its transport socket, or the one the check's transport_socket_match_criteria picks), if any.
 */
export type ProbeFactory = (
  hc: HealthCheckJson,
  cluster: string,
  tlsFor: (host: Host) => TlsContext | undefined,
) => Probe;

/** Compiles a `health_checks` entry with the probes its kind needs (throws when unsupported). */
export function healthCheckSpecOf(
  hc: HealthCheckJson,
  cluster: string,
  probes: ProbeFactory,
  tlsFor: (host: Host) => TlsContext | undefined = () => undefined,
): HealthCheckSpec {
  const interval = durationMs(hc.interval);
  const timeout = durationMs(hc.timeout);
  if (!interval || !timeout) throw new Error(`cluster ${cluster}: health check needs interval and timeout`);
  return {
    timeoutMs: timeout,
    ...intervalsOf(hc, interval),
    healthyThreshold: Math.max(1, hc.healthyThreshold ?? 1),
    unhealthyThreshold: Math.max(1, hc.unhealthyThreshold ?? 1),
    probe: probes(hc, cluster, tlsFor),
  };
}

export class HealthChecker {
  /** By host key: an EDS update replaces Host objects but not the hosts' check history. */
  private readonly state = new Map<string, HostState>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly random: () => number;
  private firstRoundOver = false;
  private firstRoundBound: NodeJS.Timeout | undefined;

  constructor(
    private readonly spec: HealthCheckSpec,
    private readonly hosts: () => readonly Host[],
    /** Whether the cluster has carried traffic yet (else `no_traffic_interval` applies). */
    private readonly hadTraffic: () => boolean,
    private readonly events: HealthCheckEvents,
  ) {
    this.random = spec.random ?? Math.random;
    // Every host starts failed (pending) until its first check passes.
    for (const h of hosts()) this.of(h);
    this.reschedule();
    this.boundFirstRound();
  }

  /**
   * Whether every host has had its first verdict, or the first round's bound passed: a check that
   * does not answer fails at `timeout`, so the round ends by then; the bound (twice the timeout)
   * only guards against a probe that ignores its abort signal. Once over, it stays over: hosts
   * added later start failed until their first check, as Envoy's do.
   */
  get firstRoundDone(): boolean {
    const hosts = this.hosts();
    if (this.firstRoundOver || hosts.length === 0) return true;
    if (hosts.every((h) => this.state.get(h.key)?.checked === true)) {
      this.firstRoundOver = true;
      clearTimeout(this.firstRoundBound);
    }
    return this.firstRoundOver;
  }

  private boundFirstRound(): void {
    if (this.firstRoundOver || this.firstRoundBound || this.hosts().length === 0) return;
    this.firstRoundBound = setTimeout(
      () => {
        if (this.firstRoundOver || this.closed) return;
        this.firstRoundOver = true;
        this.events.firstRound?.();
      },
      this.spec.initialJitterMs + 2 * this.spec.timeoutMs,
    );
    this.firstRoundBound.unref();
  }

  private of(host: Host): HostState {
    let s = this.state.get(host.key);
    if (!s) {
      const nextDueMs = Date.now() + initialDelayMs(this.spec, this.random);
      s = { successes: 0, failures: 0, pending: true, nextDueMs, inFlight: false, checked: false };
      this.state.set(host.key, s);
      host.failedActiveHc = true;
    }
    return s;
  }

  /** Hosts were added or removed: new ones are checked now (after their initial jitter). */
  hostsChanged(): void {
    const present = new Set(this.hosts().map((h) => h.key));
    for (const k of this.state.keys()) if (!present.has(k)) this.state.delete(k);
    for (const h of this.hosts()) this.of(h);
    this.reschedule();
    this.boundFirstRound();
  }

  /** Arms the timer for the earliest due check (none while every host's check is in flight). */
  private reschedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    let earliest = Infinity;
    for (const h of this.hosts()) {
      const s = this.of(h);
      if (!s.inFlight) earliest = Math.min(earliest, s.nextDueMs);
    }
    if (earliest === Infinity) return;
    this.timer = setTimeout(() => this.tick(), Math.max(0, earliest - Date.now()));
    this.timer.unref();
  }

  private tick(): void {
    const now = Date.now();
    for (const h of this.hosts()) {
      const s = this.of(h);
      if (s.inFlight || s.nextDueMs > now) continue;
      void this.check(h, s);
    }
    this.reschedule();
  }

  private async check(host: Host, s: HostState): Promise<void> {
    s.inFlight = true;
    this.events.attempt();
    const signal = AbortSignal.timeout(this.spec.timeoutMs);
    let verdict: boolean | typeof IMMEDIATE_FAIL;
    try {
      verdict = await this.spec.probe(host, signal);
    } catch {
      verdict = false;
    }
    const ok = verdict === true;
    s.inFlight = false;
    if (this.closed) return;
    const wasFailed = host.failedActiveHc;
    s.checked = true;
    this.events.result(host, ok);
    if (ok) {
      s.failures = 0;
      s.successes++;
      if (host.failedActiveHc && (s.pending || s.successes >= this.spec.healthyThreshold)) {
        host.failedActiveHc = false;
        this.events.transition(host, true);
      }
      s.pending = false;
    } else {
      s.successes = 0;
      s.failures =
        verdict === IMMEDIATE_FAIL ? Math.max(s.failures + 1, this.spec.unhealthyThreshold) : s.failures + 1;
      if (!host.failedActiveHc && s.failures >= this.spec.unhealthyThreshold) {
        host.failedActiveHc = true;
        this.events.transition(host, false);
      }
    }
    const outcome = {
      hadTraffic: this.hadTraffic(),
      healthy: !host.failedActiveHc,
      changed: host.failedActiveHc !== wasFailed,
    };
    s.nextDueMs = Date.now() + nextCheckDelayMs(this.spec, outcome, this.random);
    this.reschedule();
    if (!this.firstRoundOver && this.firstRoundDone) this.events.firstRound?.();
  }

  close(): void {
    this.closed = true;
    this.spec.probe.close?.();
    clearTimeout(this.timer);
    clearTimeout(this.firstRoundBound);
    this.timer = undefined;
  }
}
