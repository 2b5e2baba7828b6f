// envoy.filters.http.fault: delays and aborts by percentage, header-controlled faults
// (x-envoy-fault-*), header matching and per-route overrides. Sets response flags DI and FI.
import type { faultV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';
import { compileHeaderMatcher } from '../router/string-matcher.js';
import { perFilterConfig, type FilterRequest, type FilterStatus, type HttpFilter } from './http-filter.js';

export const FAULT_FILTER = 'envoy.filters.http.fault';

type Percent = { numerator?: number; denominator?: string } | undefined;

/** A FractionalPercent as a probability in [0, 1]. */
export function fraction(p: Percent, fallback = 1): number {
  if (!p) return fallback;
  const den = p.denominator === 'MILLION' ? 1_000_000 : p.denominator === 'TEN_THOUSAND' ? 10_000 : 100;
  return Math.min(1, (p.numerator ?? 0) / den);
}

export function createFaultFilter(
  config: faultV3.HTTPFaultJson,
  random: () => number = Math.random,
): HttpFilter {
  let active = 0;
  return {
    name: FAULT_FILTER,
    async onRequest(req: FilterRequest): Promise<FilterStatus> {
      const cfg = (perFilterConfig(req, FAULT_FILTER) as faultV3.HTTPFaultJson | undefined) ?? config;
      if (cfg.upstreamCluster && cfg.upstreamCluster !== req.clusterName) return 'continue';
      const get = (n: string): string | undefined => req.headers[n];
      if ((cfg.headers ?? []).some((h) => !compileHeaderMatcher(h)(get))) return 'continue';
      if (cfg.maxActiveFaults !== undefined && active >= cfg.maxActiveFaults) return 'continue';
      const hdrNum = (n: string): number | undefined => {
        const v = req.headers[n];
        return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
      };

      // Delay.
      const d = cfg.delay;
      if (d) {
        let ms = durationMs(d.fixedDelay);
        let p = fraction(d.percentage as Percent);
        if (d.headerDelay !== undefined) {
          ms = hdrNum('x-envoy-fault-delay-request');
          const hp = hdrNum('x-envoy-fault-delay-request-percentage');
          if (hp !== undefined) p = Math.min(p, hp / 100);
        }
        if (ms !== undefined && ms > 0 && random() < p) {
          req.info.responseFlags.add('DI');
          active++;
          const alive = await req.sleep(ms).finally(() => active--);
          if (!alive) return 'stop';
        }
      }

      // Abort.
      const a = cfg.abort;
      if (a) {
        let status = a.httpStatus;
        let grpc = a.grpcStatus;
        let p = fraction(a.percentage as Percent);
        if (a.headerAbort !== undefined) {
          status = hdrNum('x-envoy-fault-abort-request');
          grpc = hdrNum('x-envoy-fault-abort-grpc-request');
          const hp = hdrNum('x-envoy-fault-abort-request-percentage');
          if (hp !== undefined) p = Math.min(p, hp / 100);
        }
        if ((status !== undefined || grpc !== undefined) && random() < p) {
          req.info.responseFlags.add('FI');
          if (grpc !== undefined) {
            req.respond(200, '', {
              'content-type': 'application/grpc',
              'grpc-status': String(grpc),
              'grpc-message': 'fault filter abort',
            });
          } else req.respond(status ?? 503, 'fault filter abort');
          return 'stop';
        }
      }
      return 'continue';
    },
  };
}
