// Owns every live cluster by name: adds, replaces and removes them as CDS (or the bootstrap)
// changes, hands EDS assignments to the clusters that use them, and reports warming clusters.
import type { clusterV3, endpointV3 } from '@skein/api-types';
import { UpstreamCluster, type ClusterEvents } from './upstream-cluster.js';
import type { SecretStore } from '../transport-socket/secret-store.js';

export class ClusterManager {
  private readonly clusters = new Map<string, UpstreamCluster>();
  private readonly configs = new Map<string, string>();
  private readonly assignments = new Map<string, endpointV3.ClusterLoadAssignmentJson>();
  private readonly staticNames = new Set<string>();

  constructor(
    private readonly events: ClusterEvents,
    private readonly secrets?: SecretStore,
  ) {}

  get(name: string): UpstreamCluster | undefined {
    return this.clusters.get(name);
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
    this.upsert(c);
    if (c.name) this.staticNames.add(c.name);
  }

  /** Replaces the dynamic clusters with `list` (CDS state of the world); static ones stay. */
  setDynamic(list: readonly clusterV3.ClusterJson[]): void {
    const keep = new Set(list.map((c) => c.name ?? ''));
    for (const name of [...this.clusters.keys()]) {
      if (!keep.has(name) && !this.staticNames.has(name)) this.remove(name);
    }
    for (const c of list) if (c.name && !this.staticNames.has(c.name)) this.upsert(c);
  }

  private upsert(c: clusterV3.ClusterJson): void {
    const name = c.name ?? '';
    const json = JSON.stringify(c);
    if (this.configs.get(name) === json) return;
    const old = this.clusters.get(name);
    const next = new UpstreamCluster(c, this.events, this.secrets);
    if (next.edsName) {
      const cla = this.assignments.get(next.edsName);
      if (cla) next.setAssignment(cla);
    }
    this.clusters.set(name, next);
    this.configs.set(name, json);
    // In-flight requests hold their own reference to the old cluster; its pools close when idle.
    if (old) void old.close();
  }

  private remove(name: string): void {
    const old = this.clusters.get(name);
    this.clusters.delete(name);
    this.configs.delete(name);
    if (old) void old.close();
  }

  /** EDS service names of the clusters that need assignments. */
  edsNames(): string[] {
    return [...new Set(this.all().flatMap((c) => (c.edsName ? [c.edsName] : [])))].sort();
  }

  setAssignment(cla: endpointV3.ClusterLoadAssignmentJson): void {
    const name = cla.clusterName ?? '';
    this.assignments.set(name, cla);
    for (const c of this.clusters.values()) if (c.edsName === name) c.setAssignment(cla);
  }

  /** Names of clusters still waiting for their first endpoints. */
  warming(): string[] {
    return this.all()
      .filter((c) => !c.initialized)
      .map((c) => c.name);
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((c) => c.close()));
    this.clusters.clear();
    this.configs.clear();
  }
}
