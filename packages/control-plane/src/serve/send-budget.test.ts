import { describe, expect, it } from 'vitest';
import { SendBudget } from './send-budget.js';

describe('SendBudget', () => {
  it('runs work at once while the bytes in flight stay under the budget', () => {
    const b = new SendBudget<string>({ budgetBytes: 100 });
    const ran: string[] = [];
    b.schedule('a', () => {
      ran.push('a');
      b.track('a', 40);
    });
    b.schedule('b', () => {
      ran.push('b');
      b.track('b', 40);
    });
    expect(ran).toEqual(['a', 'b']);
    expect(b.bytesInFlight).toBe(80);
  });

  it('holds further work until flushed bytes bring it back under the budget, in FIFO order', () => {
    const b = new SendBudget<string>({ budgetBytes: 100 });
    const ran: string[] = [];
    const releases = new Map<string, () => void>();
    const work = (k: string, bytes: number) => () => {
      ran.push(k);
      releases.set(k, b.track(k, bytes));
    };
    b.schedule('a', work('a', 150));
    b.schedule('b', work('b', 10));
    b.schedule('c', work('c', 10));
    expect(ran).toEqual(['a']);
    expect(b.waiting).toBe(2);
    releases.get('a')?.();
    releases.get('a')?.(); // idempotent
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(b.bytesInFlight).toBe(20);
  });

  it('keeps a waiting key in its place and runs only its latest work', () => {
    const b = new SendBudget<string>({ budgetBytes: 1 });
    const ran: string[] = [];
    let release = (): void => undefined;
    b.schedule('x', () => {
      ran.push('x');
      release = b.track('x', 5);
    });
    b.schedule('a', () => ran.push('a1'));
    b.schedule('b', () => ran.push('b'));
    b.schedule('a', () => ran.push('a2'));
    release();
    expect(ran).toEqual(['x', 'a2', 'b']);
  });

  it('forgets a closed stream: its waiting work and its bytes in flight', () => {
    const b = new SendBudget<string>({ budgetBytes: 10 });
    const ran: string[] = [];
    let release = (): void => undefined;
    b.schedule('gone', () => {
      release = b.track('gone', 50);
    });
    b.schedule('gone', () => ran.push('never'));
    b.schedule('next', () => ran.push('next'));
    b.forget('gone');
    expect(ran).toEqual(['next']);
    expect(b.bytesInFlight).toBe(0);
    release(); // a late flush of a forgotten stream changes nothing
    expect(b.bytesInFlight).toBe(0);
  });

  it('runs at most streamsPerTurn work items per event-loop turn, the rest on the next turns in order', async () => {
    const b = new SendBudget<string>({ budgetBytes: 1000, streamsPerTurn: 2 });
    const ran: string[] = [];
    for (const k of ['a', 'b', 'c', 'd', 'e']) b.schedule(k, () => ran.push(k));
    expect(ran).toEqual(['a', 'b']);
    expect(b.waiting).toBe(3);
    b.schedule('a', () => ran.push('a2')); // joins the back of the queue
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(['a', 'b', 'c', 'd', 'e', 'a2']);
    expect(b.waiting).toBe(0);
    b.close();
  });
});
