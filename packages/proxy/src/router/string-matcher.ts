// Envoy StringMatcher and HeaderMatcher semantics (exact, prefix, suffix, contains, RE2 regex,
// presence, ranges, inversion), compiled once per route configuration.
import { re2, type routeComponentsV3 } from '@skein/api-types';

export type StringMatcherJson = {
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  ignoreCase?: boolean;
  safeRegex?: { regex?: string };
};

export type StringTest = (value: string) => boolean;

export function compileStringMatcher(m: StringMatcherJson): StringTest {
  const ic = m.ignoreCase === true;
  const norm = (s: string): string => (ic ? s.toLowerCase() : s);
  if (m.exact !== undefined) {
    const e = norm(m.exact);
    return (v) => norm(v) === e;
  }
  if (m.prefix !== undefined) {
    const p = norm(m.prefix);
    return (v) => norm(v).startsWith(p);
  }
  if (m.suffix !== undefined) {
    const s = norm(m.suffix);
    return (v) => norm(v).endsWith(s);
  }
  if (m.contains !== undefined) {
    const c = norm(m.contains);
    return (v) => norm(v).includes(c);
  }
  if (m.safeRegex?.regex !== undefined) {
    const r = re2(m.safeRegex.regex);
    return (v) => r.fullMatch(v);
  }
  throw new Error('string matcher with no match kind');
}

/** Header values as the router sees them: lower-case names, multiple values joined by ",". */
export type HeaderLookup = (name: string) => string | undefined;

export function compileHeaderMatcher(h: routeComponentsV3.HeaderMatcherJson): (get: HeaderLookup) => boolean {
  const name = (h.name ?? '').toLowerCase();
  let test: (v: string | undefined) => boolean;
  if (h.presentMatch !== undefined) {
    const want = h.presentMatch;
    test = (v) => (v !== undefined) === want;
  } else if (h.rangeMatch) {
    const start = Number(h.rangeMatch.start ?? 0);
    const end = Number(h.rangeMatch.end ?? 0);
    test = (v) => {
      if (v === undefined || !/^-?\d+$/.test(v)) return false;
      const n = Number(v);
      return n >= start && n < end;
    };
  } else {
    const sm: StringMatcherJson | undefined =
      h.stringMatch ??
      (h.exactMatch !== undefined
        ? { exact: h.exactMatch }
        : h.prefixMatch !== undefined
          ? { prefix: h.prefixMatch }
          : h.suffixMatch !== undefined
            ? { suffix: h.suffixMatch }
            : h.containsMatch !== undefined
              ? { contains: h.containsMatch }
              : h.safeRegexMatch
                ? { safeRegex: h.safeRegexMatch }
                : undefined);
    if (!sm)
      test = (v) => v !== undefined; // a bare name matches presence
    else {
      const s = compileStringMatcher(sm);
      const missingAsEmpty = h.treatMissingHeaderAsEmpty === true;
      test = (v) => (v === undefined ? missingAsEmpty && s('') : s(v));
    }
  }
  const invert = h.invertMatch === true;
  return (get) => test(get(name)) !== invert;
}
