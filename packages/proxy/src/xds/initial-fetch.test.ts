// initial_fetch_timeout bookkeeping with fake timers: a wait armed once, ended by an accepted or a
// rejected first response or by its timeout; 0 waits forever.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InitialFetchTimers, initialFetchTimeoutMs } from './initial-fetch.js';
import { durationMs } from '../util/duration.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('initial_fetch_timeout', () => {
  it('defaults to 15 s; 0s waits forever', () => {
    expect(initialFetchTimeoutMs(undefined, durationMs)).toBe(15_000);
    expect(initialFetchTimeoutMs({ initialFetchTimeout: '0.25s' }, durationMs)).toBe(250);
    expect(initialFetchTimeoutMs({ initialFetchTimeout: '0s' }, durationMs)).toBe(0);
  });

  it('expires once, at its timeout, unless a response came first', () => {
    const expired: string[] = [];
    const t = new InitialFetchTimers((type) => expired.push(type));
    t.arm('cds', 100);
    t.arm('cds', 10); // armed once: the first arming counts
    t.arm('lds', 100);
    t.done('lds');
    vi.advanceTimersByTime(99);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['cds']);
    expect(t.expired('cds')).toBe(true);
    expect(t.expired('lds')).toBe(false);
    t.close();
  });

  it('a rejected first response ends the wait, even one that waits forever', () => {
    const expired: string[] = [];
    const t = new InitialFetchTimers((type) => expired.push(type));
    t.arm('cds', 0);
    vi.advanceTimersByTime(60_000);
    expect(t.expired('cds')).toBe(false);
    t.failed('cds');
    expect(t.expired('cds')).toBe(true);
    // A response before the subscription started: arming later does nothing.
    t.done('lds');
    t.arm('lds', 10);
    vi.advanceTimersByTime(100);
    expect(expired).toEqual([]);
    expect(t.expired('lds')).toBe(false);
    t.close();
  });
});
