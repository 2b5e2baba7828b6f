// HTTP/1.1 message heads (RFC 9112): finds the end of a head in buffered bytes and parses a request
// line or status line plus header fields, strictly (token names, no obs-fold, no bare CR/LF/NUL in
// values, one Content-Length, Transfer-Encoding ending in chunked, size and count limits).

import { setOwnField } from './own-field.js';

export type HeaderMap = Record<string, string | string[]>;

export interface HeadLimits {
  /** Largest head in bytes, request/status line included (Envoy's default 60 KiB). */
  maxHeadBytes: number;
  /** Most header fields (Envoy's default 100). */
  maxHeaders: number;
}

export const DEFAULT_HEAD_LIMITS: HeadLimits = { maxHeadBytes: 60 * 1024, maxHeaders: 100 };

/** How the message body is delimited. */
export type BodyFraming =
  { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

export interface ParsedHead {
  /** HTTP minor version (1.0 → 0, 1.1 → 1). */
  minor: number;
  headers: HeaderMap;
  /** `Connection: close` (or HTTP/1.0 without keep-alive). */
  close: boolean;
  /** The Connection header lists `upgrade` and an Upgrade header is present. */
  upgrade: boolean;
  /** Content-Length when present and valid. */
  contentLength: number | undefined;
  /** Transfer-Encoding ends in chunked. */
  chunked: boolean;
  /** Transfer-Encoding present but not ending in chunked. */
  otherEncoding: boolean;
}

export interface RequestHead extends ParsedHead {
  method: string;
  target: string;
}

export interface ResponseHead extends ParsedHead {
  status: number;
  reason: string;
}

/** A malformed message: the connection cannot continue (400 downstream, a reset upstream). */
export class HttpParseError extends Error {
  constructor(
    message: string,
    /** The status a server answers with (400, 413 for a head too large, 431 too many fields). */
    readonly status = 400,
  ) {
    super(message);
    this.name = 'HttpParseError';
  }
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;
const DIGITS = /^\d{1,15}$/;

/**
 * The index just past the head's terminating blank line, or -1 when the head is not complete yet.
 * `from` is where the previous search stopped, so a head split across reads is scanned once.
 */
export function findHeadEnd(buf: Buffer, from: number): number {
  const i = buf.indexOf(CRLFCRLF, Math.max(0, from - 3));
  return i < 0 ? -1 : i + 4;
}

/**
 * Field names seen before (known to be tokens), by length and first character: a flat list of
 * [as sent, lowercased] pairs, compared in place in the head's text, so a known name costs neither
 * a slice nor a token check.
 */
const NAMES = new Map<number, string[]>();
const MAX_NAMES = 512;
let namesKept = 0;

/** The lowercased name of a field whose name, as sent, is a known one at `text[start, start + len)`. */
function knownName(text: string, start: number, len: number): string | undefined {
  const list = NAMES.get((len << 8) | text.charCodeAt(start));
  if (list === undefined) return undefined;
  for (let i = 0; i < list.length; i += 2) if (text.startsWith(list[i]!, start)) return list[i + 1];
  return undefined;
}

function rememberName(raw: string, lower: string): void {
  if (namesKept >= MAX_NAMES) return;
  namesKept++;
  const key = (raw.length << 8) | raw.charCodeAt(0);
  const list = NAMES.get(key);
  if (list) list.push(raw, lower);
  else NAMES.set(key, [raw, lower]);
}

/** A NUL, or a CR or LF that is not part of a CRLF: somewhere in the head a value may be invalid. */
const SUSPECT = /\0|\r(?!\n)|(?<!\r)\n/;

/** The characters String.prototype.trim removes, within latin1. */
function isTrimmed(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 160;
}

/** The header fields of `text` (the head without its final CRLFCRLF) from `pos`, one line at a time. */
function parseFields(text: string, pos: number, limits: HeadLimits, out: ParsedHead): void {
  const headers = out.headers;
  let count = 0;
  let connection = '';
  let te: string | undefined;
  let hasUpgradeHeader = false;
  const n = text.length;
  // Values are checked one by one only when the head has a character they may not contain.
  const checkValues = SUSPECT.test(text);
  while (pos < n) {
    let eol = text.indexOf('\r\n', pos);
    if (eol < 0) eol = n;
    const start = pos;
    pos = eol + 2;
    if (eol === start) continue;
    if (++count > limits.maxHeaders) throw new HttpParseError('too many header fields', 431);
    const c0 = text.charCodeAt(start);
    if (c0 === 32 || c0 === 9) throw new HttpParseError('obsolete line folding');
    const colon = text.indexOf(':', start);
    if (colon <= start || colon >= eol) throw new HttpParseError('header field without a colon');
    let name = knownName(text, start, colon - start);
    if (name === undefined) {
      const rawName = text.slice(start, colon);
      if (!TOKEN.test(rawName)) throw new HttpParseError(`invalid header field name`);
      name = rawName.toLowerCase();
      rememberName(rawName, name);
    }
    let vs = colon + 1;
    let ve = eol;
    while (vs < ve && isTrimmed(text.charCodeAt(vs))) vs++;
    while (ve > vs && isTrimmed(text.charCodeAt(ve - 1))) ve--;
    const value = text.slice(vs, ve);
    if (checkValues && BAD_VALUE.test(value)) throw new HttpParseError(`invalid value of ${name}`);
    let prev = headers[name];
    // A name Object.prototype has (`constructor`, `toString`, ...) is not a repeat of a field.
    if (prev !== undefined && !Object.hasOwn(headers, name)) prev = undefined;
    if (prev === undefined) {
      if (name === '__proto__') setOwnField(headers, name, value);
      else headers[name] = value;
    } else if (name === 'set-cookie') headers[name] = Array.isArray(prev) ? [...prev, value] : [prev, value];
    else if (name === 'content-length') {
      if (prev !== value) throw new HttpParseError('conflicting content-length');
    } else
      headers[name] =
        `${Array.isArray(prev) ? prev.join(', ') : prev}${name === 'cookie' ? '; ' : ', '}${value}`;
    if (name === 'connection') connection = connection ? `${connection},${value}` : value;
    else if (name === 'transfer-encoding') te = te === undefined ? value : `${te},${value}`;
    else if (name === 'upgrade') hasUpgradeHeader = true;
  }
  const cl = headers['content-length'];
  if (typeof cl === 'string') {
    if (!DIGITS.test(cl)) throw new HttpParseError('invalid content-length');
    out.contentLength = Number(cl);
  }
  if (te !== undefined) {
    if (cl !== undefined) throw new HttpParseError('content-length with transfer-encoding');
    const codings = te.toLowerCase().split(',');
    const last = (codings[codings.length - 1] ?? '').trim();
    out.chunked = last === 'chunked';
    out.otherEncoding = !out.chunked;
    if (codings.slice(0, -1).some((c) => c.trim() === 'chunked'))
      throw new HttpParseError('chunked applied more than once');
  }
  if (connection) {
    const tokens = connection.toLowerCase();
    if (/(^|,)\s*close\s*(,|$)/.test(tokens)) out.close = true;
    else if (out.minor === 0 && /(^|,)\s*keep-alive\s*(,|$)/.test(tokens)) out.close = false;
    if (hasUpgradeHeader && /(^|,)\s*upgrade\s*(,|$)/.test(tokens)) out.upgrade = true;
  }
}

/** The head as latin1 text without its final CRLFCRLF. */
function headText(buf: Buffer, end: number, limits: HeadLimits): string {
  if (end > limits.maxHeadBytes) throw new HttpParseError('head too large', 431);
  return buf.toString('latin1', 0, end - 4);
}

/** Where the first line of `text` ends. */
function firstLineEnd(text: string): number {
  const i = text.indexOf('\r\n');
  return i < 0 ? text.length : i;
}

function versionMinor(v: string): number {
  if (v === 'HTTP/1.1') return 1;
  if (v === 'HTTP/1.0') return 0;
  throw new HttpParseError(
    `unsupported version ${JSON.stringify(v.slice(0, 16))}`,
    v.startsWith('HTTP/') ? 505 : 400,
  );
}

/** Parses a request head occupying `buf[0, end)` (end from findHeadEnd). */
export function parseRequestHead(
  buf: Buffer,
  end: number,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
): RequestHead {
  const text = headText(buf, end, limits);
  const eol = firstLineEnd(text);
  const line = text.slice(0, eol);
  const s1 = line.indexOf(' ');
  const s2 = line.indexOf(' ', s1 + 1);
  if (s1 <= 0 || s2 <= s1 + 1 || line.indexOf(' ', s2 + 1) >= 0) throw new HttpParseError('bad request line');
  const method = line.slice(0, s1);
  if (!TOKEN.test(method)) throw new HttpParseError('bad method');
  const target = line.slice(s1 + 1, s2);
  if (/[\0-\x20\x7f]/.test(target)) throw new HttpParseError('bad request target');
  const minor = versionMinor(line.slice(s2 + 1));
  const head: RequestHead = {
    method,
    target,
    minor,
    headers: {},
    close: minor === 0,
    upgrade: false,
    contentLength: undefined,
    chunked: false,
    otherEncoding: false,
  };
  parseFields(text, eol + 2, limits, head);
  if (head.otherEncoding) throw new HttpParseError('transfer-encoding without chunked');
  if (minor === 1 && head.headers['host'] === undefined) throw new HttpParseError('missing host');
  return head;
}

/** The three-digit status code at `at` (first digit 1-9, nothing else), or -1. */
function statusCode(line: string, at: number): number {
  if (line.length < at + 3) return -1;
  const a = line.charCodeAt(at) - 48;
  const b = line.charCodeAt(at + 1) - 48;
  const c = line.charCodeAt(at + 2) - 48;
  if (a < 1 || a > 9 || b < 0 || b > 9 || c < 0 || c > 9) return -1;
  return a * 100 + b * 10 + c;
}

/** Parses a status line and header fields occupying `buf[0, end)`. */
export function parseResponseHead(
  buf: Buffer,
  end: number,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
): ResponseHead {
  const text = headText(buf, end, limits);
  const eol = firstLineEnd(text);
  const line = text.slice(0, eol);
  const s1 = line.indexOf(' ');
  if (s1 < 0) throw new HttpParseError('bad status line');
  const minor = versionMinor(line.slice(0, s1));
  const status = statusCode(line, s1 + 1);
  if (status < 0 || (line.length > s1 + 4 && line.charCodeAt(s1 + 4) !== 32))
    throw new HttpParseError('bad status code');
  const head: ResponseHead = {
    status,
    reason: line.slice(s1 + 5),
    minor,
    headers: {},
    close: minor === 0,
    upgrade: false,
    contentLength: undefined,
    chunked: false,
    otherEncoding: false,
  };
  parseFields(text, eol + 2, limits, head);
  return head;
}

/** How a request's body is delimited (RFC 9112 §6.3: requests without framing have none). */
export function requestFraming(h: RequestHead): BodyFraming {
  if (h.chunked) return { kind: 'chunked' };
  if (h.contentLength !== undefined && h.contentLength > 0)
    return { kind: 'length', length: h.contentLength };
  return { kind: 'none' };
}

/** A response's body length as `responseFraming` delimits it (0: none), or -1 (chunked, to close). */
export function responseBodyLength(h: ResponseHead, method: string): number {
  if (method === 'HEAD' || h.status === 204 || h.status === 304 || h.status < 200) return 0;
  if (h.chunked || h.otherEncoding || h.contentLength === undefined) return -1;
  return h.contentLength;
}

/** How a response to `method` is delimited. */
export function responseFraming(h: ResponseHead, method: string): BodyFraming {
  if (method === 'HEAD' || h.status === 204 || h.status === 304 || h.status < 200) return { kind: 'none' };
  if (h.chunked) return { kind: 'chunked' };
  if (h.otherEncoding) return { kind: 'close' };
  if (h.contentLength !== undefined)
    return h.contentLength > 0 ? { kind: 'length', length: h.contentLength } : { kind: 'none' };
  return { kind: 'close' };
}
