// Owns every live cluster by name: adds, replaces and removes them as CDS (or the bootstrap)
// changes, hands EDS assignments to the clusters that use them, and reports warming clusters.
// As Envoy's, an updated cluster warms beside the one it replaces (its first EDS assignment, DNS
// answer, first health-check round) and the old one keeps serving until the swap; a cluster new to
// CDS is hidden while it warms (requests routed to it find no cluster: 503 `NC`, not `UH`). A
// static cluster is in place at once (nothing accepts traffic before the start's warming is over).
// A cluster also warms until the SDS secrets its transport sockets name have arrived, or their
// initial_fetch_timeout ran out (`secretWaitOver`; shared: later clusters naming it do not wait),
// so its first connection already has its certificate; later secret updates swap in place.
import type { clusterV3, endpointV3 } from '@skein/api-types';
import { UpstreamCluster, type ClusterEvents } from './upstream-cluster.js';
import type { SecretStore } from '../transport-socket/secret-store.js';

export class ClusterManager {
  private readonly clusters = new Map<string, UpstreamCluster>();
  /** Updates still warming, by name, while the warm cluster they replace serves. */
  private readonly pending = new Map<string, UpstreamCluster>();
  private readonly configs = new Map<string, string>();
  private readonly assignments = new Map<string, endpointV3.ClusterLoadAssignmentJson>();
  private readonly staticNames = new Set<string>();
  /** SDS secrets whose initial_fetch_timeout ran out before they arrived: no cluster waits for them. */
  private readonly secretsGaveUp = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly events: ClusterEvents,
    private readonly secrets?: SecretStore,
  ) {
    this.unsubscribe = secrets?.onChange((name) => this.secretChanged(name)) ?? (() => {});
  }

  private readonly settled = (name: string): boolean =>
    this.secretsGaveUp.has(name) || (this.secrets?.settled(name) ?? true);

  private secretChanged(name: string): void {
    if (!this.settled(name)) return;
    for (const c of [...this.clusters.values(), ...this.pending.values()]) c.secretSettled(name);
  }

  /** An SDS secret's initial_fetch_timeout ran out: clusters waiting for it (and later ones) stop. */
  secretWaitOver(name: string): void {
    this.secretsGaveUp.add(name);
    this.secretChanged(name);
  }

  get(name: string): UpstreamCluster | undefined {
    return this.clusters.get(name);
  }

  /** CDS clusters warming out of sight (new ones, and updates beside the cluster they replace). */
  get warmingCount(): number {
    return this.pending.size;
  }

  all(): UpstreamCluster[] {
    return [...this.clusters.values()];
  }

  /** Validates a cluster resource without applying it (throws with the reason). */
  static validate(c: clusterV3.ClusterJson): void {
    // DNS clusters are validated as static ones so validation starts no resolver.
    const dns = c.type === 'STRICT_DNS' || c.type === 'LOGICAL_DNS';
    const probe = new UpstreamCluster(dns ? { ...c, type: 'STATIC' } : c, {
      onEject: () => {},
      onConnect: () => {},
    });
    void probe.close();
  }

  addStatic(c: clusterV3.ClusterJson): void {
    this.upsert(c, true);
    if (c.name) this.staticNames.add(c.name);
  }

  /** Replaces the dynamic clusters with `list` (CDS state of the world); static ones stay. */
  setDynamic(list: readonly clusterV3.ClusterJson[]): void {
    const keep = new Set(list.map((c) => c.name ?? ''));
    for (const name of new Set([...this.clusters.keys(), ...this.pending.keys()])) {
      if (!keep.has(name) && !this.staticNames.has(name)) this.remove(name);
    }
    for (const c of list) if (c.name && !this.staticNames.has(c.name)) this.upsert(c, false);
  }

  private upsert(c: clusterV3.ClusterJson, isStatic: boolean): void {
    const name = c.name ?? '';
    const json = JSON.stringify(c);
    if (this.configs.get(name) === json) return;
    this.dropPending(name);
    const old = this.clusters.get(name);
    const next = new UpstreamCluster(c, this.events, this.secrets, undefined, this.settled);
    this.configs.set(name, json);
    if (next.edsName) {
      const cla = this.assignments.get(next.edsName);
      if (cla) next.setAssignment(cla);
    }
    // An update warms beside the warm cluster it replaces; a new dynamic cluster warms unseen.
    if (!next.warm && (old?.warm || (!old && !isStatic))) {
      this.pending.set(name, next);
      next.onWarm = () => this.swap(name, next);
      return;
    }
    // A static cluster (or one replacing a cluster still warming) is in place at once.
    if (!next.warm) next.onWarm = () => this.events.onWarm?.(name);
    this.clusters.set(name, next);
    // In-flight requests hold their own reference to the old cluster; its pools close when idle.
    if (old) void old.close();
  }

  /** A warming update is warm: it replaces the cluster that served meanwhile. */
  private swap(name: string, next: UpstreamCluster): void {
    if (this.pending.get(name) !== next) return;
    this.pending.delete(name);
    const old = this.clusters.get(name);
    this.clusters.set(name, next);
    if (old) void old.close();
    this.events.onWarm?.(name);
  }

  private dropPending(name: string): void {
    const p = this.pending.get(name);
    this.pending.delete(name);
    if (p) void p.close();
  }

  private remove(name: string): void {
    this.dropPending(name);
    const old = this.clusters.get(name);
    this.clusters.delete(name);
    this.configs.delete(name);
    if (old) void old.close();
  }

  /** EDS service names of the clusters that need assignments (warming updates included). */
  edsNames(): string[] {
    const all = [...this.all(), ...this.pending.values()];
    return [...new Set(all.flatMap((c) => (c.edsName ? [c.edsName] : [])))].sort();
  }

  setAssignment(cla: endpointV3.ClusterLoadAssignmentJson): void {
    const name = cla.clusterName ?? '';
    this.assignments.set(name, cla);
    for (const c of [...this.clusters.values(), ...this.pending.values()])
      if (c.edsName === name) c.setAssignment(cla);
  }

  /**
   * Names of clusters still warming: waiting for their first endpoints, their SDS secrets or their
   * first health-check round, or an update warming beside the cluster it replaces.
   */
  warming(): string[] {
    const names = new Set(this.all().flatMap((c) => (c.warm ? [] : [c.name])));
    for (const name of this.pending.keys()) names.add(name);
    return [...names];
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await Promise.all([...this.all(), ...this.pending.values()].map((c) => c.close()));
    this.clusters.clear();
    this.pending.clear();
    this.configs.clear();
  }
}
