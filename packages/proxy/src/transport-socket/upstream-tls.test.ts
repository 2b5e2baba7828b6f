import { describe, expect, it } from 'vitest';
import { alpnFor } from './upstream-tls.js';

describe('alpnFor', () => {
  const mesh = ['istio-peer-exchange', 'istio', 'h2', 'http/1.1'];

  it("offers Istio's in-mesh HTTP ALPN for the pool protocol inside mesh mTLS", () => {
    // The server sidecar's HTTP chain (even on a sniffed port) matches istio-http/* / istio-h2;
    // `istio` keeps a PERMISSIVE server's mesh chain matching too.
    expect(alpnFor(mesh, 'http/1.1')).toEqual(['istio-http/1.1', 'istio', 'http/1.1']);
    expect(alpnFor(mesh, 'h2')).toEqual(['istio-h2', 'istio', 'h2']);
    expect(alpnFor(['istio-http/1.1', 'istio', 'http/1.1'], 'h2')).toEqual(['istio-h2', 'istio', 'h2']);
  });

  it('keeps other lists but offers only the pool protocol', () => {
    expect(alpnFor(['x-app', 'h2', 'http/1.1'], 'http/1.1')).toEqual(['x-app', 'http/1.1']);
    expect(alpnFor(['x-app', 'h2', 'http/1.1'], 'h2')).toEqual(['x-app', 'h2']);
  });

  it('offers the pool protocol when the context configures none', () => {
    expect(alpnFor([], 'http/1.1')).toEqual(['http/1.1']);
    expect(alpnFor(['h2'], 'http/1.1')).toEqual(['http/1.1']);
  });
});
