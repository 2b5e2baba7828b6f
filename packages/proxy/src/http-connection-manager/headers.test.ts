import { describe, expect, it } from 'vitest';
import { dropHeader, HOP_BY_HOP, isHopByHop, requestHeaderRecord, responseHeaderRecord } from './headers.js';

describe('isHopByHop', () => {
  it('answers as HOP_BY_HOP.has for its members and for other names', () => {
    const others = [
      'host',
      'content-length',
      'x-request-id',
      'connections',
      'tee',
      't',
      'upgrade-insecure-requests',
      '',
    ];
    for (const n of [...HOP_BY_HOP, ...others]) expect(isHopByHop(n)).toBe(HOP_BY_HOP.has(n));
    // Names built at run time (not the literals above) compare by value.
    expect(isHopByHop(['keep', 'alive'].join('-'))).toBe(true);
  });

  it('keeps hop-by-hop headers out of the request and response records', () => {
    const h = { host: 'a', connection: 'keep-alive', 'keep-alive': 'timeout=5', te: 'trailers', x: '1' };
    expect(requestHeaderRecord(h, true)).toEqual({ x: '1', te: 'trailers' });
    expect(responseHeaderRecord({ ...h, 'transfer-encoding': 'chunked', ':status': '200' })).toEqual({
      host: 'a',
      x: '1',
    });
  });
});

describe('dropHeader', () => {
  it('removes a present header, with an empty value too, and leaves the rest', () => {
    const h: Record<string, string> = { a: '1', b: '', c: '3' };
    dropHeader(h, 'a');
    dropHeader(h, 'b');
    dropHeader(h, 'missing');
    expect(h).toEqual({ c: '3' });
    expect(Object.keys(h)).toEqual(['c']);
  });

  it('never touches what the record inherits', () => {
    const h: Record<string, string> = {};
    dropHeader(h, 'toString');
    expect(typeof ({} as { toString: unknown }).toString).toBe('function');
  });
});
