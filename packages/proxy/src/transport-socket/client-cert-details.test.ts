import { describe, expect, it } from 'vitest';
import type tls from 'node:tls';
import { applyClientCertDetails, clientCertElement, type ClientCertInfo } from './client-cert-details.js';

const der = Buffer.from('not a real certificate');
const info = (): ClientCertInfo => ({
  peer: {
    raw: der,
    subjectaltname: 'URI:spiffe://td/ns/a/sa/client, DNS:client.a.svc, DNS:c2',
  } as unknown as tls.PeerCertificate,
  local: () => ({ subjectaltname: 'URI:spiffe://td/ns/b/sa/server' }) as unknown as tls.PeerCertificate,
});

describe('applyClientCertDetails', () => {
  it('SANITIZE (the default) and non-mTLS connections drop the header; ALWAYS_FORWARD_ONLY keeps it', () => {
    for (const [mode, cert] of [
      [undefined, info()],
      ['SANITIZE', info()],
      ['APPEND_FORWARD', undefined],
      ['SANITIZE_SET', undefined],
      ['FORWARD_ONLY', undefined],
    ] as const) {
      const h: Record<string, string> = { 'x-forwarded-client-cert': 'By=x' };
      applyClientCertDetails(h, mode, undefined, cert);
      expect(h['x-forwarded-client-cert']).toBeUndefined();
    }
    const h: Record<string, string> = { 'x-forwarded-client-cert': 'By=x' };
    applyClientCertDetails(h, 'ALWAYS_FORWARD_ONLY', undefined, undefined);
    expect(h['x-forwarded-client-cert']).toBe('By=x');
    applyClientCertDetails(h, 'FORWARD_ONLY', undefined, info());
    expect(h['x-forwarded-client-cert']).toBe('By=x');
  });

  it('APPEND_FORWARD appends and SANITIZE_SET replaces with the element (By, Hash, then the chosen fields)', () => {
    const c = info();
    const fields = { uri: true, dns: true };
    const element = clientCertElement(c, fields);
    expect(element).toMatch(
      /^By=spiffe:\/\/td\/ns\/b\/sa\/server;Hash=[0-9a-f]{64};URI=spiffe:\/\/td\/ns\/a\/sa\/client;DNS=client\.a\.svc;DNS=c2$/,
    );
    const a: Record<string, string> = { 'x-forwarded-client-cert': 'By=x' };
    applyClientCertDetails(a, 'APPEND_FORWARD', fields, c);
    expect(a['x-forwarded-client-cert']).toBe(`By=x,${element}`);
    const b: Record<string, string> = {};
    applyClientCertDetails(b, 'APPEND_FORWARD', fields, c);
    expect(b['x-forwarded-client-cert']).toBe(element);
    const s: Record<string, string> = { 'x-forwarded-client-cert': 'By=x' };
    applyClientCertDetails(s, 'SANITIZE_SET', fields, c);
    expect(s['x-forwarded-client-cert']).toBe(element);
  });

  it('builds the element once per connection and settings, Cert URL-encoded in quotes', () => {
    const c = info();
    const fields = { cert: true };
    const first = clientCertElement(c, fields);
    expect(clientCertElement(c, fields)).toBe(first);
    expect(c.element?.value).toBe(first);
    expect(first).toContain(`Cert="${encodeURIComponent('-----BEGIN CERTIFICATE-----\n')}`);
    expect(clientCertElement(c, { uri: true })).not.toBe(first);
  });
});
