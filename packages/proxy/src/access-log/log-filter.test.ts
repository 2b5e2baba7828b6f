// Envoy AccessLogFilter semantics on finished requests: comparisons, and/or, headers, response
// flags, gRPC status (with the HTTP mapping), runtime sampling by request id, and rejection of
// what skein-proxy cannot evaluate.
import { describe, expect, it } from 'vitest';
import type { StreamInfo } from '../http-connection-manager/stream-info.js';
import { compileLogFilter, type AccessLogFilterJson } from './log-filter.js';

function info(over: Partial<StreamInfo> = {}): StreamInfo {
  return {
    startTime: new Date(1000),
    startMs: 1000,
    endMs: 1250,
    protocol: 'HTTP/1.1',
    method: 'GET',
    path: '/',
    authority: 'reviews',
    requestHeaders: {},
    responseHeaders: {},
    responseTrailers: {},
    responseCode: 200,
    responseFlags: new Set(),
    bytesReceived: 0,
    bytesSent: 0,
    downstreamRemote: '127.0.0.1:1',
    downstreamLocal: '127.0.0.1:2',
    attempts: 1,
    tls: false,
    ...over,
  };
}

const status = (op: 'EQ' | 'GE' | 'LE', n: number): AccessLogFilterJson => ({
  statusCodeFilter: { comparison: { op, value: { defaultValue: n, runtimeKey: 'k' } } },
});

describe('access log filters', () => {
  it('compares the status code and the duration', () => {
    const ge400 = compileLogFilter(status('GE', 400));
    expect(ge400(info({ responseCode: 503 }))).toBe(true);
    expect(ge400(info({ responseCode: 200 }))).toBe(false);
    expect(compileLogFilter(status('EQ', 200))(info())).toBe(true);
    expect(compileLogFilter(status('LE', 199))(info())).toBe(false);
    const slow = compileLogFilter({
      durationFilter: { comparison: { op: 'GE', value: { defaultValue: 200, runtimeKey: 'd' } } },
    });
    expect(slow(info())).toBe(true);
    expect(slow(info({ endMs: 1100 }))).toBe(false);
  });

  it('combines with and/or', () => {
    const f = compileLogFilter({
      orFilter: {
        filters: [
          { andFilter: { filters: [status('GE', 500), status('LE', 599)] } },
          { responseFlagFilter: { flags: ['UO'] } },
        ],
      },
    });
    expect(f(info({ responseCode: 502 }))).toBe(true);
    expect(f(info({ responseCode: 404 }))).toBe(false);
    expect(f(info({ responseCode: 429, responseFlags: new Set(['UO']) }))).toBe(true);
  });

  it('matches request headers, inverted too', () => {
    const jason = compileLogFilter({
      headerFilter: { header: { name: 'End-User', stringMatch: { exact: 'jason' } } },
    });
    expect(jason(info({ requestHeaders: { 'end-user': 'jason' } }))).toBe(true);
    expect(jason(info())).toBe(false);
    const notDebug = compileLogFilter({
      headerFilter: { header: { name: 'x-debug', presentMatch: true, invertMatch: true } },
    });
    expect(notDebug(info())).toBe(true);
    expect(notDebug(info({ requestHeaders: { 'x-debug': '1' } }))).toBe(false);
    const posts = compileLogFilter({
      headerFilter: { header: { name: ':method', stringMatch: { exact: 'POST' } } },
    });
    expect(posts(info({ method: 'POST' }))).toBe(true);
    expect(posts(info())).toBe(false);
    expect(posts(info({ protocol: 'TCP', method: 'POST' }))).toBe(false);
  });

  it('keeps any flagged request when the flag list is empty, and refuses unknown flags', () => {
    const any = compileLogFilter({ responseFlagFilter: {} });
    expect(any(info())).toBe(false);
    expect(any(info({ responseFlags: new Set(['UF']) }))).toBe(true);
    expect(() => compileLogFilter({ responseFlagFilter: { flags: ['XX'] } })).toThrow(/unknown flag XX/);
  });

  it('reads grpc-status, or maps the HTTP status as gRPC does', () => {
    const failed = compileLogFilter({ grpcStatusFilter: { statuses: ['OK'], exclude: true } });
    expect(failed(info({ responseTrailers: { 'grpc-status': '0' } }))).toBe(false);
    expect(failed(info({ responseTrailers: { 'grpc-status': '14' } }))).toBe(true);
    const unavailable = compileLogFilter({ grpcStatusFilter: { statuses: ['UNAVAILABLE'] } });
    expect(unavailable(info({ responseCode: 503 }))).toBe(true);
    expect(unavailable(info({ responseCode: 403 }))).toBe(false);
  });

  it('samples by request id, the same way every time', () => {
    const half = compileLogFilter({
      runtimeFilter: { runtimeKey: 'r', percentSampled: { numerator: 50, denominator: 'HUNDRED' } },
    });
    const ids = Array.from({ length: 400 }, (_, i) => `req-${i}`);
    const kept = ids.filter((id) => half(info({ requestId: id })));
    expect(kept.length).toBeGreaterThan(120);
    expect(kept.length).toBeLessThan(280);
    expect(ids.filter((id) => half(info({ requestId: id })))).toEqual(kept);
    const none = compileLogFilter({ runtimeFilter: { runtimeKey: 'r', percentSampled: { numerator: 0 } } });
    expect(ids.some((id) => none(info({ requestId: id })))).toBe(false);
  });

  it('names a filter it cannot evaluate instead of logging everything', () => {
    expect(() => compileLogFilter({ traceableFilter: {} })).toThrow(/traceableFilter is not supported/);
    expect(() => compileLogFilter({ andFilter: { filters: [status('EQ', 200)] } })).toThrow(/at least two/);
    expect(() => compileLogFilter({ statusCodeFilter: {} })).toThrow(/default_value is required/);
  });
});
