// The one RE2 implementation shared by validation and routing. User regexes (VirtualService
// `regex`, Envoy `safe_regex`) are RE2: no look-around, no back-references, linear-time matching.
// JavaScript's RegExp accepts more and matches some patterns differently, so it is never used
// for user patterns.
import type * as Re2js from 're2js';
import { lazyRequire } from '../lazy-require.js';

/** re2js (its CommonJS build), loaded with the first regex compiled. */
const re2js = lazyRequire<typeof Re2js>('re2js');

export interface Re2 {
  /** The pattern as given. */
  readonly source: string;
  /** True when the whole input matches (Envoy and Istio regex matches are full matches). */
  fullMatch(input: string): boolean;
  /** True when some part of the input matches. */
  partialMatch(input: string): boolean;
  /** Replaces every match (used by regex rewrites); `\1`-style group references are expanded. */
  replaceAll(input: string, substitution: string): string;
}

export type Re2Result = { ok: true; regex: Re2 } | { ok: false; error: string };

/** Compiles an RE2 pattern, returning the reason when RE2 rejects it. */
export function compileRe2(pattern: string): Re2Result {
  try {
    const p = re2js().RE2JS.compile(pattern);
    return {
      ok: true,
      regex: {
        source: pattern,
        fullMatch: (input) => p.matches(input),
        partialMatch: (input) => p.test(input),
        // Envoy's substitution syntax uses \1; re2js's replaceAll uses $1.
        replaceAll: (input, substitution) =>
          p.matcher(input).replaceAll(substitution.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1')),
      },
    };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Compiles an RE2 pattern or throws with RE2's reason. */
export function re2(pattern: string): Re2 {
  const r = compileRe2(pattern);
  if (!r.ok) throw new Error(`invalid RE2 regex ${JSON.stringify(pattern)}: ${r.error}`);
  return r.regex;
}
