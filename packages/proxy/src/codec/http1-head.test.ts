import { describe, expect, it } from 'vitest';
import {
  findHeadEnd,
  HttpParseError,
  parseRequestHead,
  parseResponseHead,
  requestFraming,
  responseBodyLength,
  responseFraming,
} from './http1-head.js';

function req(text: string) {
  const b = Buffer.from(text, 'latin1');
  const end = findHeadEnd(b, 0);
  if (end < 0) throw new Error('incomplete head');
  return parseRequestHead(b, end);
}
function res(text: string) {
  const b = Buffer.from(text, 'latin1');
  return parseResponseHead(b, findHeadEnd(b, 0));
}
function rejects(text: string, status = 400): void {
  let err: unknown;
  try {
    req(text);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(HttpParseError);
  expect((err as HttpParseError).status).toBe(status);
}

describe('request heads', () => {
  it('parses the request line and fields, joining repeats the way node:http does', () => {
    const h = req(
      'POST /a?b=1 HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\nCookie: c=1\r\ncookie: d=2\r\nContent-Length: 5\r\n\r\n',
    );
    expect(h.method).toBe('POST');
    expect(h.target).toBe('/a?b=1');
    expect(h.headers).toEqual({ host: 'x', 'x-a': '1, 2', cookie: 'c=1; d=2', 'content-length': '5' });
    expect(requestFraming(h)).toEqual({ kind: 'length', length: 5 });
    expect(h.close).toBe(false);
  });

  it('keeps fields named like Object.prototype members as they were sent', () => {
    const h = req(
      'GET / HTTP/1.1\r\nHost: x\r\nConstructor: a\r\ntoString: b\r\n__proto__: c\r\n__proto__: d\r\n\r\n',
    );
    expect(Object.entries(h.headers)).toEqual([
      ['host', 'x'],
      ['constructor', 'a'],
      ['tostring', 'b'],
      ['__proto__', 'c, d'],
    ]);
    expect(Object.getPrototypeOf(h.headers)).toBe(Object.prototype);
    const r = res('HTTP/1.1 200 OK\r\nconstructor: e\r\nContent-Length: 0\r\n\r\n');
    expect(r.headers['constructor']).toBe('e');
  });

  it('finds a head split across reads, resuming where it stopped', () => {
    const whole = Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\nrest');
    for (let cut = 1; cut < whole.length; cut++) {
      const first = whole.subarray(0, cut);
      const scanned = findHeadEnd(first, 0) < 0 ? first.length : -1;
      const end = scanned < 0 ? findHeadEnd(first, 0) : findHeadEnd(whole, scanned);
      expect(end).toBe(whole.length - 4);
    }
  });

  it('sees Connection: close, chunked framing and upgrades', () => {
    expect(req('GET / HTTP/1.1\r\nhost: x\r\nconnection: keep-alive, Close\r\n\r\n').close).toBe(true);
    const c = req('POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n');
    expect(requestFraming(c)).toEqual({ kind: 'chunked' });
    const u = req('GET / HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\r\n');
    expect(u.upgrade).toBe(true);
    expect(req('GET / HTTP/1.0\r\n\r\n').close).toBe(true);
    expect(req('GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n').close).toBe(false);
    expect(requestFraming(req('GET / HTTP/1.1\r\nhost: x\r\n\r\n'))).toEqual({ kind: 'none' });
  });

  it('accepts a repeated identical Content-Length', () => {
    expect(
      req('PUT / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ncontent-length: 3\r\n\r\n').contentLength,
    ).toBe(3);
  });

  it('rejects malformed heads', () => {
    rejects('GET / HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n  folded\r\n\r\n'); // obs-fold
    rejects('GET / HTTP/1.1\r\nhost: x\r\nbad name: 1\r\n\r\n');
    rejects('GET / HTTP/1.1\r\nhost: x\r\nnocolon\r\n\r\n');
    rejects('GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n');
    rejects('GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n');
    rejects('GET / HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n');
    rejects('GET / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip\r\n\r\n');
    rejects('GET / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked, chunked\r\n\r\n');
    rejects('GET / HTTP/1.1\r\n\r\n'); // HTTP/1.1 without Host
    rejects('NOT HTTP AT ALL\r\n\r\n');
    rejects('GET /a b HTTP/1.1\r\nhost: x\r\n\r\n');
    rejects('G(T / HTTP/1.1\r\nhost: x\r\n\r\n');
    rejects('GET / HTTP/2.0\r\nhost: x\r\n\r\n', 505);
    rejects('GET / HTTP/1.1\r\nhost: x\r\nx: a\rb\r\n\r\n');
  });

  it('checks names and values the same once the names are known (matched in place)', () => {
    expect(req('GET / HTTP/1.1\r\nHost: x\r\nX-Known: 1\r\n\r\n').headers).toEqual({
      host: 'x',
      'x-known': '1',
    });
    expect(req('GET / HTTP/1.1\r\nHOST: y\r\nX-Known: 2\r\nX-Knowm: 3\r\n\r\n').headers).toEqual({
      host: 'y',
      'x-known': '2',
      'x-knowm': '3',
    });
    rejects('GET / HTTP/1.1\r\nHost: x\r\nX-Known: 1\0\r\n\r\n');
    rejects('GET / HTTP/1.1\r\nHost: x\r\nX-Known: 1\n2\r\n\r\n');
    rejects('GET / HTTP/1.1\r\nHost: x\r\nX-Known: 1\r2\r\n\r\n');
    rejects('GET / HTTP/1.1\r\nHost: x\r\nX-Known : 1\r\n\r\n');
  });

  it('limits the number of fields and the size of the head', () => {
    const many = Array.from({ length: 101 }, (_, i) => `x-${i}: v\r\n`).join('');
    rejects(`GET / HTTP/1.1\r\nhost: x\r\n${many}\r\n`, 431);
    rejects(`GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(61 * 1024)}\r\n\r\n`, 431);
  });
});

describe('response heads', () => {
  it('parses the status line and frames bodies by method and status', () => {
    const h = res('HTTP/1.1 200 OK\r\ncontent-length: 10\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n\r\n');
    expect(h.status).toBe(200);
    expect(h.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(responseFraming(h, 'GET')).toEqual({ kind: 'length', length: 10 });
    expect(responseFraming(h, 'HEAD')).toEqual({ kind: 'none' });
    expect(responseFraming(res('HTTP/1.1 204 No Content\r\n\r\n'), 'GET')).toEqual({ kind: 'none' });
    expect(responseFraming(res('HTTP/1.1 304 Not Modified\r\ncontent-length: 9\r\n\r\n'), 'GET')).toEqual({
      kind: 'none',
    });
    expect(responseFraming(res('HTTP/1.1 200 OK\r\n\r\n'), 'GET')).toEqual({ kind: 'close' });
    expect(responseFraming(res('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'), 'GET')).toEqual({
      kind: 'chunked',
    });
    expect(res('HTTP/1.1 100 Continue\r\n\r\n').status).toBe(100);
    expect(res('HTTP/1.1 200\r\n\r\n').reason).toBe('');
  });

  it('rejects a bad status line', () => {
    const b = Buffer.from('HTTP/1.1 20 OK\r\n\r\n');
    expect(() => parseResponseHead(b, findHeadEnd(b, 0))).toThrow(HttpParseError);
    const c = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n');
    expect(() => parseResponseHead(c, findHeadEnd(c, 0))).toThrow(HttpParseError);
  });
});

describe('response body length', () => {
  it('agrees with the framing: the length, 0 for none, -1 for chunked or read to close', () => {
    const heads = [
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n',
      'HTTP/1.1 200 OK\r\n\r\n',
      'HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n',
      'HTTP/1.1 304 Not Modified\r\n\r\n',
      'HTTP/1.1 100 Continue\r\n\r\n',
    ];
    const seen: number[] = [];
    for (const text of heads)
      for (const method of ['GET', 'HEAD']) {
        const h = res(text);
        const f = responseFraming(h, method);
        const n = responseBodyLength(h, method);
        expect(n).toBe(f.kind === 'none' ? 0 : f.kind === 'length' ? f.length : -1);
        seen.push(n);
      }
    expect(seen.slice(0, 6)).toEqual([5, 0, 0, 0, -1, 0]);
  });
});
