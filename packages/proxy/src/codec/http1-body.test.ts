import { describe, expect, it } from 'vitest';
import { BodyDecoder, chunkHeader, lastChunk } from './http1-body.js';
import { HttpParseError, type BodyFraming } from './http1-head.js';

interface Decoded {
  data: Buffer;
  trailers: Record<string, string> | undefined;
  consumed: number;
}

/** Feeds `input` in the given pieces; returns the body, its trailers and the bytes it consumed. */
function decode(framing: BodyFraming, pieces: Buffer[]): Decoded {
  const parts: Buffer[] = [];
  let trailers: Record<string, string> | undefined;
  const d = new BodyDecoder(framing, {
    data: (c) => parts.push(Buffer.from(c)),
    end: (t) => (trailers = t),
  });
  let consumed = 0;
  for (const p of pieces) {
    if (d.done) break;
    consumed += d.feed(p);
  }
  return { data: Buffer.concat(parts), trailers, consumed };
}

/** Every way of cutting `input` in two, plus byte by byte. */
function splits(input: Buffer): Buffer[][] {
  const out: Buffer[][] = [[input]];
  for (let i = 1; i < input.length; i++) out.push([input.subarray(0, i), input.subarray(i)]);
  out.push([...input].map((b) => Buffer.from([b])));
  return out;
}

const CHUNKED = Buffer.from(
  '5;ext=1\r\nhello\r\n1A\r\n' +
    'abcdefghijklmnopqrstuvwxyz' +
    '\r\n0\r\nx-checksum: 42\r\nx-more: a\r\n\r\nNEXT',
);

describe('body decoder', () => {
  it('decodes a chunked body with extensions and trailers at every split point', () => {
    for (const pieces of splits(CHUNKED)) {
      const r = decode({ kind: 'chunked' }, pieces);
      expect(r.data.toString()).toBe('hello' + 'abcdefghijklmnopqrstuvwxyz');
      expect(r.trailers).toEqual({ 'x-checksum': '42', 'x-more': 'a' });
      expect(r.consumed).toBe(CHUNKED.length - 'NEXT'.length); // the next pipelined message stays
    }
  });

  it('decodes a Content-Length body at every split point and stops at its end', () => {
    const input = Buffer.from('0123456789GET /next');
    for (const pieces of splits(input)) {
      const r = decode({ kind: 'length', length: 10 }, pieces);
      expect(r.data.toString()).toBe('0123456789');
      expect(r.trailers).toEqual({});
      expect(r.consumed).toBe(10);
    }
  });

  it('reads a close-delimited body until eof', () => {
    const parts: string[] = [];
    let ended = false;
    const d = new BodyDecoder(
      { kind: 'close' },
      { data: (c) => parts.push(c.toString()), end: () => (ended = true) },
    );
    d.feed(Buffer.from('ab'));
    d.feed(Buffer.from('cd'));
    expect(ended).toBe(false);
    expect(d.eof()).toBe(true);
    expect(parts.join('')).toBe('abcd');
    expect(ended).toBe(true);
  });

  it('reports a length-delimited body cut short at eof', () => {
    const d = new BodyDecoder({ kind: 'length', length: 5 }, { data: () => {}, end: () => {} });
    d.feed(Buffer.from('ab'));
    expect(d.eof()).toBe(false);
  });

  it('rejects bad chunk sizes, bare LFs and chunks longer than declared', () => {
    for (const bad of [
      'zz\r\n',
      '-1\r\n',
      '\r\n',
      '5\nhello\r\n0\r\n\r\n',
      '3\r\nhello\r\n',
      '1234567890abc\r\n',
    ]) {
      expect(() => decode({ kind: 'chunked' }, [Buffer.from(bad)]), bad).toThrow(HttpParseError);
    }
  });

  it('limits the chunk-size line', () => {
    expect(() => decode({ kind: 'chunked' }, [Buffer.from('1;' + 'x'.repeat(5000))])).toThrow(HttpParseError);
  });

  it('round-trips its own chunked encoding', () => {
    const body = Buffer.alloc(70_000, 7);
    const wire = Buffer.concat([
      Buffer.from(chunkHeader(body.length)),
      body,
      Buffer.from('\r\n'),
      Buffer.from(lastChunk({ 'grpc-status': '0', 'x-l': ['a', 'b'] })),
    ]);
    const r = decode({ kind: 'chunked' }, [wire]);
    expect(r.data.equals(body)).toBe(true);
    expect(r.trailers).toEqual({ 'grpc-status': '0', 'x-l': 'a, b' });
  });
});
