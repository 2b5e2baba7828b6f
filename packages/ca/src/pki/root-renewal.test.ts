import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { goDurationMs, rootRotatorEnv } from '../kube/self-signed-root-rotator.js';
import { createIntermediateCa, createRootCa } from './ca-material.js';
import { renewSelfSignedRoot, rootRenewalTime } from './root-renewal.js';

describe('self-signed root renewal', () => {
  it('is due once less than the grace share of the lifetime remains', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const root = await createRootCa({ trustDomain: 'cluster.local', ttlSeconds: 100 * 86400, now });
    // Valid from now - 60 s to now + 100 days: 20 % of the lifetime before the end.
    const lifetime = 100 * 86400_000 + 60_000;
    expect(rootRenewalTime(root.caCertPem).getTime()).toBe(now + 100 * 86400_000 - lifetime * 0.2);
    expect(rootRenewalTime(root.caCertPem, 50).getTime()).toBe(now + 100 * 86400_000 - lifetime * 0.5);
  });

  it('keeps subject and key, so the old root and the new one verify the same signatures', async () => {
    const root = await createRootCa({ trustDomain: 'cluster.local', commonName: 'Old name kept' });
    const pem = await renewSelfSignedRoot(root, { ttlSeconds: 3600 });
    const [a, b] = [new X509Certificate(root.caCertPem), new X509Certificate(pem)];
    expect(b.subject).toBe(a.subject);
    expect(b.serialNumber).not.toBe(a.serialNumber);
    expect(b.verify(a.publicKey)).toBe(true);
    expect(a.verify(b.publicKey)).toBe(true);
    expect(b.ca).toBe(true);
    const inter = await createIntermediateCa(root, { trustDomain: 'cluster.local', commonName: 'i' });
    await expect(renewSelfSignedRoot(inter)).rejects.toThrow(/not a self-signed root/);
  });

  it("reads istiod's environment variables as Go durations", () => {
    expect(goDurationMs('1h')).toBe(3_600_000);
    expect(goDurationMs('87600h')).toBe(87600 * 3_600_000);
    expect(goDurationMs('1m30s')).toBe(90_000);
    expect(goDurationMs('500ms')).toBe(500);
    expect(goDurationMs('soon')).toBeUndefined();
    expect(
      rootRotatorEnv({
        CITADEL_SELF_SIGNED_ROOT_CERT_CHECK_INTERVAL: '2s',
        CITADEL_SELF_SIGNED_ROOT_CERT_GRACE_PERIOD_PERCENTILE: '50',
        CITADEL_SELF_SIGNED_CA_CERT_TTL: '24h',
      }),
    ).toEqual({ intervalMs: 2000, gracePercent: 50, ttlSeconds: 86400 });
    expect(rootRotatorEnv({ CITADEL_SELF_SIGNED_ROOT_CERT_GRACE_PERIOD_PERCENTILE: '150' })).toEqual({});
  });
});
