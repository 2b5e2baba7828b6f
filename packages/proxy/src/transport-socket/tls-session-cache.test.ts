import { describe, expect, it } from 'vitest';
import tls from 'node:tls';
import { TlsSessionCache } from './tls-session-cache.js';

const peer = {} as tls.PeerCertificate;
const session = (n: number): Buffer => Buffer.from([n]);

describe('TlsSessionCache', () => {
  it('returns the newest session per server and keeps at most maxKeys', () => {
    const ctx = tls.createSecureContext();
    const c = new TlsSessionCache(2);
    c.put(ctx, 'a:1/', { session: session(1), peer });
    c.put(ctx, 'a:1/', { session: session(2), peer });
    c.put(ctx, 'a:1/', { session: session(3), peer });
    expect(c.get(ctx, 'a:1/')?.session).toEqual(session(3));
    c.drop(ctx, 'a:1/', c.get(ctx, 'a:1/')?.session ?? Buffer.alloc(0));
    expect(c.get(ctx, 'a:1/')?.session).toEqual(session(2));
    c.drop(ctx, 'a:1/', c.get(ctx, 'a:1/')?.session ?? Buffer.alloc(0));
    // Session 1 was evicted when the third arrived.
    expect(c.get(ctx, 'a:1/')).toBeUndefined();
    expect(c.get(ctx, 'b:1/')).toBeUndefined();
  });

  it('keeps sessions apart per SecureContext (a rotated certificate starts afresh)', () => {
    const before = tls.createSecureContext();
    const after = tls.createSecureContext();
    const c = new TlsSessionCache(1);
    c.put(before, 'a:1/', { session: session(1), peer });
    expect(c.get(after, 'a:1/')).toBeUndefined();
    expect(c.get(before, 'a:1/')?.session).toEqual(session(1));
  });

  it('stores nothing with maxKeys 0', () => {
    const ctx = tls.createSecureContext();
    const c = new TlsSessionCache(0);
    c.put(ctx, 'a:1/', { session: session(1), peer });
    expect(c.get(ctx, 'a:1/')).toBeUndefined();
  });
});
