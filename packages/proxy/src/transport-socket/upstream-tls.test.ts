import { describe, expect, it } from 'vitest';
import { alpnFor } from './upstream-tls.js';

describe('alpnFor', () => {
  const mesh = ['istio-peer-exchange', 'istio', 'h2', 'http/1.1'];

  it('keeps the mesh markers and offers only the pool protocol', () => {
    // A PERMISSIVE server's mesh chain matches on istio-peer-exchange / istio in the ClientHello.
    expect(alpnFor(mesh, 'http/1.1')).toEqual(['istio-peer-exchange', 'istio', 'http/1.1']);
    expect(alpnFor(mesh, 'h2')).toEqual(['istio-peer-exchange', 'istio', 'h2']);
  });

  it('offers the pool protocol when the context configures none', () => {
    expect(alpnFor([], 'http/1.1')).toEqual(['http/1.1']);
    expect(alpnFor(['h2'], 'http/1.1')).toEqual(['http/1.1']);
  });
});
