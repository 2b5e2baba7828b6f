// The control plane's Prometheus metrics (prom-client, a registry of its own), named as istiod
// names them where an equivalent exists.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class XdsMetrics {
  readonly registry = new Registry();
  /** Responses sent per type since the last scrape (a push sends thousands: a Map, not prom-client). */
  private readonly pushTally = new Map<string, number>();
  readonly connected = new Gauge({
    name: 'pilot_xds',
    help: 'Connected xDS clients.',
    registers: [this.registry],
  });
  readonly pushes = new Counter({
    name: 'pilot_xds_pushes',
    help: 'xDS responses sent, by type.',
    labelNames: ['type'],
    registers: [this.registry],
    collect: () => {
      for (const [type, n] of this.pushTally) this.pushes.inc({ type }, n);
      this.pushTally.clear();
    },
  });

  /** Counts one response sent (folded into `pilot_xds_pushes` when it is read). */
  countPush(type: string): void {
    this.pushTally.set(type, (this.pushTally.get(type) ?? 0) + 1);
  }
  readonly pushErrors = new Counter({
    name: 'pilot_xds_push_errors',
    help: 'xDS responses that failed to generate or send, by type.',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly rejects = new Counter({
    name: 'pilot_total_xds_rejects',
    help: 'NACKs received from clients, by type.',
    labelNames: ['type'],
    registers: [this.registry],
  });
  /** Convergence times not yet folded into the histogram (a push's ACKs come by the thousand). */
  private readonly pendingConvergence: number[] = [];
  readonly convergence = new Histogram({
    name: 'pilot_proxy_convergence_time',
    help: 'Seconds from a config change to the client ACKing the push.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
    collect: () => this.foldConvergence(),
  });

  /**
   * Records one convergence time (seconds): kept in an array and folded into the histogram when
   * it is read (or past 4096 waiting), not run through prom-client per ACK.
   */
  observeConvergence(seconds: number): void {
    this.pendingConvergence.push(seconds);
    if (this.pendingConvergence.length >= 4096) this.foldConvergence();
  }

  private foldConvergence(): void {
    for (const v of this.pendingConvergence) this.convergence.observe(v);
    this.pendingConvergence.length = 0;
  }
  readonly configRejected = new Counter({
    name: 'skein_config_rejected_total',
    help: 'Mesh objects rejected by validation, by kind.',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly pushTriggers = new Counter({
    name: 'pilot_push_triggers',
    help: 'Debounced pushes, by reason.',
    labelNames: ['type'],
    registers: [this.registry],
  });
}
