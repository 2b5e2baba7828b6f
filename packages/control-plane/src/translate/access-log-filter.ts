// Telemetry `accessLogging[].filter.expression` (CEL over Istio's attributes) into Envoy's
// AccessLogFilter, which skein-proxy and Envoy both evaluate without a CEL engine. The subset:
// `response.code`, `response.duration` (against `duration('…')`) and `response.grpc_status`
// compared with ==, !=, <, <=, >, >=; `request.headers['x']` (also `.x`) and `request.method`,
// `request.path`, `request.host` compared with == / != or tested with startsWith, endsWith,
// contains, matches (RE2); `has(request.headers.x)` and `'x' in request.headers`; `!` before a
// presence test; `&&`, `||` and parentheses. Anything else is reported with the reason, and the
// caller logs every request (a superset: nothing is lost).

/** An Envoy AccessLogFilter in canonical JSON (camelCase). */
export type LogFilterJson = Record<string, unknown>;

export type FilterTranslation = { readonly filter: LogFilterJson } | { readonly error: string };

type Tok =
  | { t: 'num'; v: number; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'id'; v: string; at: number }
  | { t: 'op'; v: string; at: number };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (/[0-9]/.test(c)) {
      let j = i;
      while (j < src.length && /[0-9]/.test(src[j] ?? '')) j++;
      if (src[j] === 'u') j++; // CEL unsigned literal
      out.push({ t: 'num', v: Number(src.slice(i, j).replace(/u$/, '')), at });
      i = j;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let v = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        v += src[j];
        j++;
      }
      if (j >= src.length) throw new Error(`unterminated string at ${at}`);
      out.push({ t: 'str', v, at });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j] ?? '')) j++;
      out.push({ t: 'id', v: src.slice(i, j), at });
      i = j;
    } else {
      const two = src.slice(i, i + 2);
      if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) {
        out.push({ t: 'op', v: two, at });
        i += 2;
      } else if ('<>!().[],'.includes(c)) {
        out.push({ t: 'op', v: c, at });
        i++;
      } else throw new Error(`unexpected '${c}' at ${at}`);
    }
  }
  return out;
}

type Operand =
  | { kind: 'code' | 'duration' | 'grpc' }
  | { kind: 'header'; name: string }
  | { kind: 'value'; num?: number; str?: string };

const GRPC = [
  'OK', 'CANCELED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
]; // prettier-ignore

/** `request.<attr>` attributes that are pseudo-headers. */
const PSEUDO: Record<string, string> = { method: ':method', path: ':path', host: ':authority' };

function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s);
  if (!m) throw new Error(`unsupported duration '${s}'`);
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * scale);
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok | undefined {
    return this.toks[this.i];
  }
  private next(): Tok {
    const t = this.toks[this.i++];
    if (!t) throw new Error('unexpected end of expression');
    return t;
  }
  private accept(v: string): boolean {
    const t = this.peek();
    if (t && (t.t === 'op' || t.t === 'id') && t.v === v) {
      this.i++;
      return true;
    }
    return false;
  }
  private expect(v: string): void {
    const t = this.next();
    if ((t.t !== 'op' && t.t !== 'id') || t.v !== v) throw new Error(`expected '${v}' at ${t.at}`);
  }

  parse(): LogFilterJson {
    const f = this.or();
    const t = this.peek();
    if (t) throw new Error(`unexpected '${String(t.v)}' at ${t.at}`);
    return f;
  }

  private or(): LogFilterJson {
    const parts = [this.and()];
    while (this.accept('||')) parts.push(this.and());
    return parts.length === 1 ? (parts[0] as LogFilterJson) : { orFilter: { filters: parts } };
  }

  private and(): LogFilterJson {
    const parts = [this.unary()];
    while (this.accept('&&')) parts.push(this.unary());
    return parts.length === 1 ? (parts[0] as LogFilterJson) : { andFilter: { filters: parts } };
  }

  private unary(): LogFilterJson {
    const t = this.peek();
    if (t?.t === 'op' && t.v === '!') {
      this.i++;
      const inner = this.unary();
      const h = inner['headerFilter'] as { header: Record<string, unknown> } | undefined;
      if (h && Object.keys(inner).length === 1)
        return { headerFilter: { header: { ...h.header, invertMatch: h.header['invertMatch'] !== true } } };
      throw new Error(`'!' is supported before a header test only (at ${t.at})`);
    }
    if (this.accept('(')) {
      const f = this.or();
      this.expect(')');
      return f;
    }
    if (t?.t === 'id' && t.v === 'has') {
      this.i++;
      this.expect('(');
      const o = this.operand();
      this.expect(')');
      if (o.kind !== 'header') throw new Error(`has() is supported on request headers only (at ${t.at})`);
      return { headerFilter: { header: { name: o.name, presentMatch: true } } };
    }
    if (t?.t === 'str' && this.toks[this.i + 1]?.v === 'in') {
      this.i += 2;
      const a = this.next();
      const b = this.next();
      const c = this.next();
      if (a.v !== 'request' || b.v !== '.' || c.v !== 'headers')
        throw new Error(`'in' is supported on request.headers only (at ${a.at})`);
      return { headerFilter: { header: { name: t.v.toLowerCase(), presentMatch: true } } };
    }
    return this.comparison();
  }

  /** request.headers['x'], request.headers.x, request.method/path/host, response.*, literals. */
  private operand(): Operand {
    const t = this.next();
    if (t.t === 'num') return { kind: 'value', num: t.v };
    if (t.t === 'str') return { kind: 'value', str: t.v };
    if (t.t === 'id' && t.v === 'duration') {
      this.expect('(');
      const s = this.next();
      if (s.t !== 'str') throw new Error(`duration() takes a string (at ${s.at})`);
      this.expect(')');
      return { kind: 'value', num: parseDuration(s.v) };
    }
    if (t.t !== 'id' || (t.v !== 'request' && t.v !== 'response'))
      throw new Error(`unsupported term '${String(t.v)}' at ${t.at}`);
    this.expect('.');
    const attr = this.next();
    if (attr.t !== 'id') throw new Error(`attribute name expected at ${attr.at}`);
    if (t.v === 'response') {
      if (attr.v === 'code') return { kind: 'code' };
      if (attr.v === 'duration') return { kind: 'duration' };
      if (attr.v === 'grpc_status') return { kind: 'grpc' };
      throw new Error(`unsupported attribute response.${attr.v} (at ${attr.at})`);
    }
    if (attr.v === 'headers') {
      if (this.accept('[')) {
        const k = this.next();
        if (k.t !== 'str') throw new Error(`header name string expected at ${k.at}`);
        this.expect(']');
        return { kind: 'header', name: k.v.toLowerCase() };
      }
      this.expect('.');
      const k = this.next();
      if (k.t !== 'id') throw new Error(`header name expected at ${k.at}`);
      return { kind: 'header', name: k.v.toLowerCase().replace(/_/g, '-') };
    }
    const pseudo = PSEUDO[attr.v];
    if (pseudo) return { kind: 'header', name: pseudo };
    throw new Error(`unsupported attribute request.${attr.v} (at ${attr.at})`);
  }

  private comparison(): LogFilterJson {
    const start = this.peek()?.at ?? 0;
    const left = this.operand();
    if (left.kind === 'header' && this.accept('.')) {
      const fn = this.next();
      this.expect('(');
      const arg = this.next();
      this.expect(')');
      if (arg.t !== 'str') throw new Error(`${String(fn.v)}() takes a string (at ${arg.at})`);
      const m: Record<string, Record<string, unknown>> = {
        startsWith: { prefix: arg.v },
        endsWith: { suffix: arg.v },
        contains: { contains: arg.v },
        matches: { safeRegex: { regex: arg.v } },
      };
      const sm = m[String(fn.v)];
      if (!sm) throw new Error(`unsupported function ${String(fn.v)}() at ${fn.at}`);
      return { headerFilter: { header: { name: left.name, stringMatch: sm } } };
    }
    const op = this.next();
    if (op.t !== 'op' || !['==', '!=', '<', '<=', '>', '>='].includes(op.v))
      throw new Error(`comparison expected at ${op.at}`);
    const right = this.operand();
    let attr = left;
    let value = right;
    let o = op.v;
    if (left.kind === 'value') {
      attr = right;
      value = left;
      o = ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as Record<string, string>)[o] ?? o;
    }
    if (attr.kind === 'value' || value.kind !== 'value')
      throw new Error(`a comparison needs one attribute and one literal (at ${start})`);
    if (attr.kind === 'header') {
      if (value.str === undefined || (o !== '==' && o !== '!='))
        throw new Error(`headers compare with == or != against a string (at ${start})`);
      return {
        headerFilter: {
          header: {
            name: attr.name,
            stringMatch: { exact: value.str },
            ...(o === '!=' ? { invertMatch: true } : {}),
          },
        },
      };
    }
    if (value.num === undefined) throw new Error(`${attr.kind} compares with a number (at ${start})`);
    if (attr.kind === 'grpc') {
      const name = GRPC[value.num];
      if (!name || (o !== '==' && o !== '!='))
        throw new Error(`grpc_status compares with == or != (at ${start})`);
      return { grpcStatusFilter: { statuses: [name], ...(o === '!=' ? { exclude: true } : {}) } };
    }
    const key = attr.kind === 'code' ? 'statusCodeFilter' : 'durationFilter';
    const cmp = (op2: 'EQ' | 'GE' | 'LE', n: number): LogFilterJson => ({
      [key]: { comparison: { op: op2, value: { defaultValue: n, runtimeKey: `access_log.${key}` } } },
    });
    const n = value.num;
    switch (o) {
      case '==':
        return cmp('EQ', n);
      case '>=':
        return cmp('GE', n);
      case '>':
        return cmp('GE', n + 1);
      case '<=':
        return cmp('LE', n);
      case '<':
        if (n <= 0) throw new Error(`'< ${n}' never matches (at ${start})`);
        return cmp('LE', n - 1);
      default: // !=
        return n <= 0 ? cmp('GE', n + 1) : { orFilter: { filters: [cmp('LE', n - 1), cmp('GE', n + 1)] } };
    }
  }
}

/** Translates a Telemetry access-log filter expression, or says why it cannot. */
export function accessLogFilterOf(expression: string): FilterTranslation {
  try {
    return { filter: new Parser(tokenize(expression)).parse() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
