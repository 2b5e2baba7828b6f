import { CertificateAuthority, createRootCa } from '@skein/ca';
import { describe, expect, it } from 'vitest';
import { WorkloadCertificate, type Timer } from './workload-certificate.js';

/** A timer whose clock only moves when the test says so; it records what was scheduled. */
function manualTimer(start: number) {
  let now = start;
  const pending: { at: number; fn: () => void }[] = [];
  const timer: Timer = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn };
      pending.push(t);
      return t;
    },
    clearTimeout: (h) => {
      const i = pending.indexOf(h as (typeof pending)[number]);
      if (i >= 0) pending.splice(i, 1);
    },
  };
  return {
    timer,
    pending,
    /** Moves the clock to the next scheduled callback and runs it. */
    fireNext: () => {
      const t = pending.sort((a, b) => a.at - b.at).shift()!;
      now = t.at;
      t.fn();
      return t.at;
    },
  };
}

describe('WorkloadCertificate rotation', () => {
  it('rotates a 30 s certificate from a CA that backdates notBefore 60 s after 15 s, not at once', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const clock = manualTimer(t0);
    const ca = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }), {
      clockSkewSeconds: 60,
      now: clock.timer.now,
    });
    const id = 'spiffe://cluster.local/ns/demo/sa/web';
    const cert = new WorkloadCertificate({
      signer: { sign: async (csr, ttl) => (await ca.signWorkloadCsr(csr, id, ttl)).certChain },
      ttlSeconds: 30,
      timer: clock.timer,
    });
    const first = await cert.start();
    expect(first.notBefore.getTime()).toBe(t0 - 60_000);
    expect(first.notAfter.getTime()).toBe(t0 + 30_000);
    expect(clock.pending.map((p) => p.at - t0)).toEqual([15_000]);

    const next = new Promise<number>((resolve) => cert.onUpdate((s) => resolve(s.version)));
    expect(clock.fireNext()).toBe(t0 + 15_000);
    expect(await next).toBe(2);
    expect(clock.pending.map((p) => p.at - t0)).toEqual([30_000]);
    cert.stop();
  });
});
