// An upstream host: one endpoint of a cluster, with the live state load balancing, outlier
// detection and health need.

export interface Host {
  /** "address:port", unique within a cluster. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly priority: number;
  /** Index of its locality within its priority (for locality-weighted balancing). */
  readonly locality: string;
  readonly localityWeight: number;
  /** Health from EDS (`health_status`): only HEALTHY and UNKNOWN receive traffic. */
  healthy: boolean;
  /** Active health checking has found it unhealthy (or not yet healthy): FAILED_ACTIVE_HC. */
  failedActiveHc: boolean;
  /** Outlier detection: ejected until this time (ms since epoch), 0 when not ejected. */
  ejectedUntil: number;
  ejections: number;
  activeRequests: number;
  consecutive5xx: number;
  consecutiveGatewayFailures: number;
}

export function makeHost(
  address: string,
  port: number,
  opts: {
    weight?: number;
    priority?: number;
    locality?: string;
    localityWeight?: number;
    healthy?: boolean;
  } = {},
): Host {
  return {
    key: address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`,
    address,
    port,
    weight: Math.max(1, opts.weight ?? 1),
    priority: opts.priority ?? 0,
    locality: opts.locality ?? '',
    localityWeight: opts.localityWeight ?? 1,
    healthy: opts.healthy ?? true,
    failedActiveHc: false,
    ejectedUntil: 0,
    ejections: 0,
    activeRequests: 0,
    consecutive5xx: 0,
    consecutiveGatewayFailures: 0,
  };
}

export function isAvailable(h: Host, now: number): boolean {
  return h.healthy && !h.failedActiveHc && h.ejectedUntil <= now;
}
