import { describe, expect, it } from 'vitest';
import { abortSignalOf, Cancel } from './cancel.js';

describe('Cancel', () => {
  it('runs each listener once, in order, with the default AbortError reason', () => {
    const c = new Cancel();
    const seen: string[] = [];
    c.addEventListener('abort', () => seen.push('a'));
    c.addEventListener('abort', () => seen.push('b'));
    c.abort();
    c.abort();
    expect(seen).toEqual(['a', 'b']);
    expect(c.aborted).toBe(true);
    expect((c.reason as DOMException).name).toBe('AbortError');
  });

  it('does not call a removed listener, nor one added after the abort', () => {
    const c = new Cancel();
    let n = 0;
    const one = (): void => void n++;
    const two = (): void => void (n += 10);
    c.addEventListener('abort', one);
    c.addEventListener('abort', two);
    c.removeEventListener('abort', one);
    c.abort(new Error('why'));
    c.addEventListener('abort', one);
    expect(n).toBe(10);
    expect((c.reason as Error).message).toBe('why');
  });

  it('gives a real AbortSignal that follows it, before or after the abort', () => {
    const before = new Cancel();
    const s = abortSignalOf(before);
    expect(s).toBeInstanceOf(AbortSignal);
    expect(s.aborted).toBe(false);
    before.abort('r1');
    expect(s.aborted).toBe(true);
    expect(s.reason).toBe('r1');
    const after = new Cancel();
    after.abort('r2');
    expect(abortSignalOf(after).reason).toBe('r2');
    const real = new AbortController().signal;
    expect(abortSignalOf(real)).toBe(real);
  });

  it('keeps running listeners when one throws, and rethrows the error later (as EventTarget)', async () => {
    const c = new Cancel();
    let ran = false;
    c.addEventListener('abort', () => {
      throw new Error('boom');
    });
    c.addEventListener('abort', () => void (ran = true));
    const thrown = new Promise<unknown>((resolve) => {
      const listeners = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.once('uncaughtException', (e) => {
        for (const l of listeners) process.on('uncaughtException', l);
        resolve(e);
      });
    });
    c.abort();
    expect(ran).toBe(true);
    expect(((await thrown) as Error).message).toBe('boom');
  });
});
