// Header handling at the HTTP connection manager's edges: hop-by-hop removal, the x-forwarded-*
// and x-request-id headers Envoy sets, and conversion between Node's header shapes.
import type { IncomingHttpHeaders } from 'node:http';
import { setOwnField } from '../codec/own-field.js';
import { randomRequestId } from './request-id.js';

/** Hop-by-hop and connection-specific headers never forwarded. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'expect',
  'http2-settings',
]);

/**
 * Downstream request headers as a plain record, pseudo-headers and hop-by-hop removed (and `host`
 * too when `withoutHost`: the connection manager carries it as the authority). Built without
 * deleting keys, so the record keeps V8's fast property layout for the copies that follow.
 */
export function requestHeaderRecord(h: IncomingHttpHeaders, withoutHost = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) {
    const v = h[k];
    if (v === undefined || k.startsWith(':') || HOP_BY_HOP.has(k) || (withoutHost && k === 'host')) continue;
    const value = Array.isArray(v) ? v.join(k === 'cookie' ? '; ' : ', ') : v;
    if (k === '__proto__') setOwnField(out, k, value);
    else out[k] = value;
  }
  if (h['te'] === 'trailers') out['te'] = 'trailers';
  return out;
}

export interface ForwardedOptions {
  useRemoteAddress: boolean;
  skipXffAppend: boolean;
  generateRequestId: boolean;
  tls: boolean;
  remoteAddress: string;
}

/** Sets x-forwarded-proto, appends x-forwarded-for, and generates x-request-id (Envoy's rules). */
export function applyForwardedHeaders(headers: Record<string, string>, o: ForwardedOptions): void {
  if (o.useRemoteAddress) {
    headers['x-forwarded-proto'] = o.tls ? 'https' : 'http';
    if (!o.skipXffAppend) {
      headers['x-forwarded-for'] = headers['x-forwarded-for']
        ? `${headers['x-forwarded-for']},${o.remoteAddress}`
        : o.remoteAddress;
    }
    headers['x-envoy-external-address'] = o.remoteAddress;
  } else {
    headers['x-forwarded-proto'] ??= o.tls ? 'https' : 'http';
  }
  if (o.generateRequestId && !headers['x-request-id']) headers['x-request-id'] = randomRequestId();
}

/** Upstream response headers safe to send downstream (hop-by-hop removed). */
export function responseHeaderRecord(
  h: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in h) {
    const v = h[k];
    if (v === undefined || k.startsWith(':') || HOP_BY_HOP.has(k)) continue;
    if (k === '__proto__') setOwnField(out, k, v);
    else out[k] = v;
  }
  return out;
}

export function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
