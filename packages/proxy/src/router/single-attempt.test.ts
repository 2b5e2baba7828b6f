import { describe, expect, it } from 'vitest';
import { StatsStore } from '../stats/stats-store.js';
import type { Http1Response } from '../endpoint/http1-pool.js';
import { Cancel } from './cancel.js';
import type { RouterRequest, RouterResult } from './router-filter.js';
import { SingleAttempt, type RouteSink } from './single-attempt.js';

type Ctor = ConstructorParameters<typeof SingleAttempt>;

/** A fake cluster and host: what an attempt touches when it settles (counts, no outlier detection). */
function attempt(): { a: SingleAttempt; host: { activeRequests: number }; breaker: { held: number } } {
  const breaker = { held: 1, release: () => void breaker.held-- };
  const host = { activeRequests: 1, key: '127.0.0.1:1' };
  const cluster = { name: 'c', outlier: undefined, circuitBreaker: breaker };
  const ctx = { stats: new StatsStore() };
  const req = { method: 'GET' } as RouterRequest;
  const a = new SingleAttempt(
    ctx as unknown as Ctor[0],
    req,
    {},
    cluster as unknown as Ctor[3],
    host as unknown as Ctor[4],
    '/',
    'a',
    {},
    undefined,
    new Cancel(),
    undefined,
    0,
    undefined,
    undefined,
    Infinity,
  );
  return { a, host, breaker };
}

const RESPONSE = { status: 200, headers: {} } as unknown as Http1Response;

/** A sink recording what it was given, and when (`log` is shared to show the order). */
function recorder(log: string[], name: string): RouteSink & { results: RouterResult[]; errors: unknown[] } {
  const results: RouterResult[] = [];
  const errors: unknown[] = [];
  return {
    results,
    errors,
    routed: (r) => (results.push(r), log.push(`${name} routed`)),
    routeFailed: (e) => (errors.push(e), log.push(`${name} failed`)),
  };
}

describe('SingleAttempt result delivery', () => {
  it('delivers the response to a sink waiting for it in a microtask, not inside the pool callback', async () => {
    const log: string[] = [];
    const { a } = attempt();
    const sink = recorder(log, 'a');
    a.deliverTo(sink);
    a.resolve(RESPONSE);
    log.push('after resolve');
    await Promise.resolve();
    expect(log).toEqual(['after resolve', 'a routed']);
    expect(sink.results).toEqual([a]);
    expect(a.response).toBe(RESPONSE);
  });

  it('delivers an outcome settled before the sink was given (a synchronous failure)', async () => {
    const { a, host, breaker } = attempt();
    a.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    const sink = recorder([], 'a');
    a.deliverTo(sink);
    expect(sink.results).toEqual([]);
    await Promise.resolve();
    expect(sink.results).toEqual([expect.objectContaining({ kind: 'local', status: 503, flag: 'UF' })]);
    expect(host.activeRequests).toBe(0);
    expect(breaker.held).toBe(0);
  });

  it('keeps the first outcome, as a promise does', async () => {
    const { a } = attempt();
    const sink = recorder([], 'a');
    a.deliverTo(sink);
    a.resolve(RESPONSE);
    a.reject(new Error('late'));
    await Promise.resolve();
    await Promise.resolve();
    expect(sink.results).toEqual([a]);
    expect(sink.errors).toEqual([]);
  });

  it('gives a throwing sink its own exception, and still delivers the other attempts of the turn', async () => {
    const log: string[] = [];
    const first = attempt().a;
    const second = attempt().a;
    const boom = new Error('boom');
    const thrower = recorder(log, 'first');
    thrower.routed = () => {
      throw boom;
    };
    const other = recorder(log, 'second');
    first.deliverTo(thrower);
    second.deliverTo(other);
    first.resolve(RESPONSE);
    second.resolve(RESPONSE);
    await Promise.resolve();
    expect(thrower.errors).toEqual([boom]);
    expect(log).toEqual(['first failed', 'second routed']);
  });

  it('settles its promise for callers that await the result', async () => {
    const { a } = attempt();
    const p = a.promise;
    a.resolve(RESPONSE);
    await expect(p).resolves.toBe(a);
  });
});
