// Telemetry access-log filter expressions (CEL) into Envoy AccessLogFilters: the translatable
// subset, and a clear reason for what is outside it.
import { describe, expect, it } from 'vitest';
import { accessLogFilterOf } from './access-log-filter.js';

const status = (op: string, n: number) => ({
  statusCodeFilter: {
    comparison: { op, value: { defaultValue: n, runtimeKey: 'access_log.statusCodeFilter' } },
  },
});
const ok = (e: string) => {
  const t = accessLogFilterOf(e);
  if ('error' in t) throw new Error(`${e}: ${t.error}`);
  return t.filter;
};
const err = (e: string) => {
  const t = accessLogFilterOf(e);
  return 'error' in t ? t.error : undefined;
};

describe('access log filter expressions', () => {
  it('compares response.code every way, either side', () => {
    expect(ok('response.code >= 400')).toEqual(status('GE', 400));
    expect(ok('response.code > 499')).toEqual(status('GE', 500));
    expect(ok('response.code < 300')).toEqual(status('LE', 299));
    expect(ok('response.code <= 299')).toEqual(status('LE', 299));
    expect(ok('response.code == 404')).toEqual(status('EQ', 404));
    expect(ok('400 <= response.code')).toEqual(status('GE', 400));
    expect(ok('response.code != 200')).toEqual({
      orFilter: { filters: [status('LE', 199), status('GE', 201)] },
    });
  });

  it('combines with && and || and parentheses', () => {
    expect(ok('response.code >= 500 && response.code <= 599')).toEqual({
      andFilter: { filters: [status('GE', 500), status('LE', 599)] },
    });
    expect(ok("(response.code == 503) || request.headers['x-debug'] == 'on'")).toEqual({
      orFilter: {
        filters: [
          status('EQ', 503),
          { headerFilter: { header: { name: 'x-debug', stringMatch: { exact: 'on' } } } },
        ],
      },
    });
  });

  it('tests headers, pseudo-headers and presence', () => {
    expect(ok('request.method != "GET"')).toEqual({
      headerFilter: { header: { name: ':method', stringMatch: { exact: 'GET' }, invertMatch: true } },
    });
    expect(ok("request.path.startsWith('/api/')")).toEqual({
      headerFilter: { header: { name: ':path', stringMatch: { prefix: '/api/' } } },
    });
    expect(ok("request.headers['User-Agent'].matches('curl/.*')")).toEqual({
      headerFilter: { header: { name: 'user-agent', stringMatch: { safeRegex: { regex: 'curl/.*' } } } },
    });
    expect(ok('has(request.headers.x_b3_traceid)')).toEqual({
      headerFilter: { header: { name: 'x-b3-traceid', presentMatch: true } },
    });
    expect(ok("!('x-debug' in request.headers)")).toEqual({
      headerFilter: { header: { name: 'x-debug', presentMatch: true, invertMatch: true } },
    });
  });

  it('compares durations and gRPC status', () => {
    expect(ok("response.duration > duration('1.5s')")).toEqual({
      durationFilter: {
        comparison: { op: 'GE', value: { defaultValue: 1501, runtimeKey: 'access_log.durationFilter' } },
      },
    });
    expect(ok('response.grpc_status != 0')).toEqual({
      grpcStatusFilter: { statuses: ['OK'], exclude: true },
    });
    expect(ok('response.grpc_status == 14')).toEqual({ grpcStatusFilter: { statuses: ['UNAVAILABLE'] } });
  });

  it('says why it cannot translate the rest', () => {
    expect(err('connection.mtls')).toMatch(/unsupported term 'connection'/);
    expect(err('response.size > 10')).toMatch(/unsupported attribute response.size/);
    expect(err('!(response.code == 200)')).toMatch(/'!' is supported before a header test only/);
    expect(err("request.headers['a'] > 'b'")).toMatch(/headers compare with == or !=/);
    expect(err('response.code >= ')).toMatch(/unexpected end/);
    expect(err("response.code == 'x")).toMatch(/unterminated string/);
    expect(err('response.code < 0')).toMatch(/never matches/);
  });
});
