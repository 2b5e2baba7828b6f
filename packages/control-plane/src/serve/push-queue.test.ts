import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PushQueue } from './push-queue.js';
import type { PushRequest } from './push-scope.js';

const change = (host: string, changeAt: number, types?: string[]): PushRequest => ({
  full: false,
  hosts: new Set([host]),
  types,
  changeAt,
  reason: host,
});

describe('PushQueue', () => {
  let pushed: { at: number; req: PushRequest }[];
  let queue: PushQueue;
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    pushed = [];
    queue = new PushQueue({
      quietMs: 20,
      maxDelayMs: 200,
      flush: (req) => pushed.push({ at: Date.now(), req }),
    });
  });
  afterEach(() => {
    queue.stop();
    vi.useRealTimers();
  });

  it('counts the time since observation toward the quiet window', () => {
    const t0 = Date.now();
    // Observed 12 ms ago (settle, parse, snapshot): 8 ms of quiet are left.
    queue.enqueue(change('a', t0 - 12));
    vi.advanceTimersByTime(7);
    expect(pushed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(pushed.map((p) => p.at - t0)).toEqual([8]);
    expect(pushed[0]?.req.changeAt).toBe(t0 - 12);
  });

  it('pushes after the current turn when the window since observation has passed', () => {
    const t0 = Date.now();
    queue.enqueue(change('a', t0 - 25));
    queue.enqueue(change('b', t0 - 30)); // same turn: coalesced
    expect(pushed).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(pushed).toHaveLength(1);
    expect([...(pushed[0]?.req.hosts ?? [])]).toEqual(['a', 'b']);
    expect(pushed[0]?.req.changeAt).toBe(t0 - 30);
    expect(pushed[0]?.req.reason).toBe('a,b');
  });

  it('coalesces a burst and runs the window from its latest observation', () => {
    const t0 = Date.now();
    queue.enqueue(change('a', t0, ['eds']));
    vi.advanceTimersByTime(15);
    queue.enqueue(change('b', Date.now() - 5, ['rds'])); // observed at t0 + 10
    vi.advanceTimersByTime(14);
    expect(pushed).toEqual([]); // t0 + 29: the window since t0 + 10 is still open
    vi.advanceTimersByTime(1);
    expect(pushed).toHaveLength(1);
    expect(pushed[0]?.at).toBe(t0 + 30);
    expect(pushed[0]?.req.types).toEqual(['eds', 'rds']);
    expect(pushed[0]?.req.changeAt).toBe(t0);
  });

  it('a later request with an older observation does not shorten the window', () => {
    const t0 = Date.now();
    queue.enqueue(change('a', t0));
    vi.advanceTimersByTime(5);
    queue.enqueue(change('b', t0 - 100));
    vi.advanceTimersByTime(14);
    expect(pushed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(pushed.map((p) => p.at - t0)).toEqual([20]);
  });

  it('never waits longer than maxDelayMs after the first unpushed change while changes keep coming', () => {
    const t0 = Date.now();
    for (let i = 0; i < 30; i++) {
      queue.enqueue(change(`h${i}`, Date.now()));
      vi.advanceTimersByTime(10);
    }
    expect(pushed.map((p) => p.at - t0)).toEqual([200]);
    expect(pushed[0]?.req.hosts.size).toBe(20); // enqueued at t0 … t0 + 190
  });

  it('a stamp from the future waits no longer than quietMs', () => {
    const t0 = Date.now();
    queue.enqueue(change('a', t0 + 1000));
    vi.advanceTimersByTime(20);
    expect(pushed.map((p) => p.at - t0)).toEqual([20]);
  });

  it('flushNow pushes at once and stop drops what is pending', () => {
    queue.enqueue(change('a', Date.now()));
    queue.flushNow();
    expect(pushed).toHaveLength(1);
    queue.enqueue(change('b', Date.now()));
    queue.stop();
    vi.advanceTimersByTime(1000);
    expect(pushed).toHaveLength(1);
  });
});
