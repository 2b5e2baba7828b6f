// The contract between the HTTP connection manager and its HTTP filters: a filter sees the
// request after route selection, may mutate headers, delay, answer locally, or continue; and may
// adjust the response headers on the way back.
import type { routeComponentsV3 } from '@skein/api-types';
import type { StreamInfo } from '../http-connection-manager/stream-info.js';
import type { DownstreamConnection } from '../http-connection-manager/proxy-context.js';

export interface FilterRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  /** Request headers (lower-case names), mutable by filters. */
  readonly headers: Record<string, string>;
  readonly route: routeComponentsV3.RouteJson | undefined;
  readonly vhost: routeComponentsV3.VirtualHostJson | undefined;
  readonly clusterName: string | undefined;
  readonly info: StreamInfo;
  /** The downstream connection (peer address, TLS principal, destination). */
  readonly conn: DownstreamConnection;
  /** Ends the request with a local reply (the router is not reached). */
  respond(status: number, body: string, headers?: Record<string, string>): void;
  /** Resolves after ms unless the downstream goes away first (then resolves false). */
  sleep(ms: number): Promise<boolean>;
}

export type FilterStatus = 'continue' | 'stop';

export interface HttpFilter {
  readonly name: string;
  onRequest(req: FilterRequest): FilterStatus | Promise<FilterStatus>;
  onResponse?(req: FilterRequest, status: number, headers: Record<string, string | string[]>): void;
}

/** A filter's per-route override by filter name, from route, then virtual host. */
export function perFilterConfig(req: FilterRequest, filterName: string): Record<string, unknown> | undefined {
  const fromRoute = req.route?.typedPerFilterConfig?.[filterName];
  const fromVhost = req.vhost?.typedPerFilterConfig?.[filterName];
  const v = (fromRoute ?? fromVhost) as Record<string, unknown> | undefined;
  if (!v) return undefined;
  // FilterConfig wraps the real config in `config`.
  if (typeof v['@type'] === 'string' && v['@type'].endsWith('config.route.v3.FilterConfig')) {
    return v['config'] as Record<string, unknown> | undefined;
  }
  return v;
}
