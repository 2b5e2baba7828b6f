// The workload's certificate lifecycle: key generated locally (it never leaves the pod), CSR
// signed by the CA, rotation when a fraction of the lifetime has passed, listeners told on change.
import { X509Certificate } from 'node:crypto';
import { createCsr, generateKeyPair, privateKeyToPem, type KeyAlgorithm } from '@skein/ca';

/** Sends a CSR to the CA; returns [leaf, ...intermediates, root]. */
export interface CertificateSigner {
  sign(csrPem: string, ttlSeconds: number): Promise<string[]>;
}

export interface WorkloadSecret {
  keyPem: string;
  /** leaf + intermediates. */
  certChainPem: string;
  rootCertPem: string;
  notBefore: Date;
  notAfter: Date;
  /** When it was requested: the lifetime counts from here when the CA backdated notBefore. */
  requestedAt: Date;
  /** Increases with every new certificate. */
  version: number;
}

export interface Timer {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export const realTimer: Timer = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
};

export interface WorkloadCertificateOptions {
  signer: CertificateSigner;
  /** The SPIFFE ID to put in the CSR (the CA decides the identity anyway). */
  identity?: string;
  ttlSeconds?: number;
  keyAlgorithm?: KeyAlgorithm;
  /** Rotate when this fraction of the lifetime is left; default 0.5 (Istio's grace period ratio). */
  gracePeriodRatio?: number;
  /** Retry delay after a failed request; default 2 s, doubling up to 60 s. */
  retryMs?: number;
  timer?: Timer;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export class WorkloadCertificate {
  private current: WorkloadSecret | undefined;
  private handle: unknown;
  private listeners = new Set<(s: WorkloadSecret) => void>();
  private stopped = false;
  private failures = 0;
  private readonly timer: Timer;

  constructor(private readonly o: WorkloadCertificateOptions) {
    this.timer = o.timer ?? realTimer;
  }

  get secret(): WorkloadSecret | undefined {
    return this.current;
  }

  onUpdate(fn: (s: WorkloadSecret) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Fetches the first certificate (retrying until it succeeds or stop()), then keeps it fresh. */
  async start(): Promise<WorkloadSecret> {
    const first = new Promise<WorkloadSecret>((resolve) => {
      const off = this.onUpdate((s) => {
        off();
        resolve(s);
      });
    });
    void this.refresh();
    return first;
  }

  stop(): void {
    this.stopped = true;
    if (this.handle !== undefined) this.timer.clearTimeout(this.handle);
  }

  /** Requests a new certificate now (also used by the rotation timer). */
  async refresh(): Promise<void> {
    if (this.stopped) return;
    try {
      const requestedAt = new Date(this.timer.now());
      const keys = await generateKeyPair(this.o.keyAlgorithm ?? 'ECDSA_P256');
      const csr = await createCsr(keys, this.o.identity ? { uris: [this.o.identity] } : {});
      const chain = await this.o.signer.sign(csr, this.o.ttlSeconds ?? 86400);
      if (chain.length < 2)
        throw new Error(`CA returned ${chain.length} certificates, expected leaf and root`);
      const leaf = new X509Certificate(chain[0]!);
      const secret: WorkloadSecret = {
        keyPem: await privateKeyToPem(keys.privateKey),
        certChainPem: chain.slice(0, -1).join(''),
        rootCertPem: chain[chain.length - 1]!,
        notBefore: new Date(leaf.validFrom),
        notAfter: new Date(leaf.validTo),
        requestedAt,
        version: (this.current?.version ?? 0) + 1,
      };
      if (this.stopped) return;
      this.current = secret;
      this.failures = 0;
      this.o.log?.('certificate issued', {
        notAfter: secret.notAfter.toISOString(),
        version: secret.version,
      });
      this.schedule(this.rotationDelay(secret));
      for (const l of [...this.listeners]) l(secret);
    } catch (e) {
      this.failures++;
      const delay = Math.min((this.o.retryMs ?? 2000) * 2 ** (this.failures - 1), 60_000);
      this.o.log?.('certificate request failed', { error: (e as Error).message, retryInMs: delay });
      this.schedule(delay);
    }
  }

  /**
   * Milliseconds until rotation: when gracePeriodRatio of the lifetime remains. The lifetime
   * starts at notBefore or at the request, whichever is later: CAs backdate notBefore for clock
   * skew (skein-ca by 60 s), which would otherwise make a short-lived certificate (30 s) look
   * due at once and rotate in a loop.
   */
  rotationDelay(s: WorkloadSecret): number {
    const life = s.notAfter.getTime() - Math.max(s.notBefore.getTime(), s.requestedAt.getTime());
    const at = s.notAfter.getTime() - life * (this.o.gracePeriodRatio ?? 0.5);
    return Math.max(0, at - this.timer.now());
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.handle !== undefined) this.timer.clearTimeout(this.handle);
    this.handle = this.timer.setTimeout(() => void this.refresh(), ms);
  }
}
