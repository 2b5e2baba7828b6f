import { describe, expect, it } from 'vitest';
import { compileRe2, re2 } from './re2.js';

describe('RE2', () => {
  it.each(['(?=x)', '(?!x)', '(?<=x)y', '(a)\\1', 'a++'])(
    'rejects %s, which JavaScript RegExp accepts or means otherwise',
    (p) => {
      expect(compileRe2(p).ok).toBe(false);
    },
  );

  it('matches the whole value, as Envoy and Istio do', () => {
    const r = re2('/reviews/[0-9]+');
    expect(r.fullMatch('/reviews/12')).toBe(true);
    expect(r.fullMatch('/reviews/12/x')).toBe(false);
    expect(r.partialMatch('/api/reviews/12/x')).toBe(true);
  });

  it('supports RE2-only syntax', () => {
    expect(re2('\\pL+').fullMatch('héllo')).toBe(true);
    expect(re2('(?i)abc').fullMatch('ABC')).toBe(true);
    expect(re2('\\Qa.b\\E').fullMatch('a.b')).toBe(true);
  });

  it('rewrites with \\1 group references as Envoy regex_rewrite does', () => {
    expect(re2('^/v1/(.*)$').replaceAll('/v1/items/3', '/v2/\\1')).toBe('/v2/items/3');
    expect(re2('a').replaceAll('banana', '$')).toBe('b$n$n$');
  });

  it('throws a clear error for a bad pattern', () => {
    expect(() => re2('(?=x)')).toThrow(/invalid RE2 regex/);
  });
});
