import { describe, expect, it } from 'vitest';
import { sameNames, Subscriptions } from './subscriptions.js';

describe('Subscriptions', () => {
  it('holds equal name sets once, whatever their order or duplicates', () => {
    const subs = new Subscriptions();
    const a = subs.intern(['b', 'a', 'c']);
    const b = subs.intern(['c', 'a', 'b', 'a']);
    expect(b).toBe(a);
    expect(a.sorted).toEqual(['a', 'b', 'c']);
    expect(a.key).toBe('a,b,c');
    expect(subs.intern(['a', '*'])).not.toBe(a);
    expect(subs.intern(['a', '*']).names).toEqual(new Set(['a']));
  });

  it('compares a request with a subscription by request order first, then as a set', () => {
    const sub = new Subscriptions().intern(['x', 'y']);
    expect(sameNames(sub, ['x', 'y'])).toBe(true);
    expect(sameNames(sub, ['y', 'x'])).toBe(true);
    expect(sameNames(sub, ['x'])).toBe(false);
    expect(sameNames(sub, ['x', 'z'])).toBe(false);
    expect(sameNames(undefined, [])).toBe(false);
  });
});
