// Owns the proxy's listeners: binds new ones, swaps the configuration of changed ones in place
// (same address) or rebinds them, drains removed ones, holds listeners that wait for their route
// configurations or TLS secrets (warming), and finds the listener for an original destination (handoff).
// Until the proxy's start is over (Envoy's workers started: every cluster warm, first LDS/RDS in)
// listeners that are ready are held unbound, so nothing accepts a connection it could not serve.
// A listener's wait for a route configuration is bounded by its RDS config source's
// initial_fetch_timeout (15 s by default, 0s forever): after it, the listener serves without those
// routes (404 NR) until they arrive, as Envoy's. A wait for an SDS secret ends the same way when the
// secret's initial_fetch_timeout runs out (`secretWaitOver`): the listener serves without it.
// As Envoy's, a TCP listener's socket is bound when the listener is created (a port 0 gets its port
// then, listed by /listeners during the start) and listens only when it serves (listen-socket.ts).
// With worker threads, a port-0 listener is bound once by the primary; the workers bind the port it
// got (`sharedPort`, SO_REUSEPORT), so every worker accepts on the one port, as Envoy's. A Unix
// socket cannot be shared between threads (no SO_REUSEPORT for it, no handle passing between
// worker threads): the primary alone accepts on it.
import type { listenerV3 } from '@skein/api-types';
import { ActiveListener, type OriginalDstResolver } from './active-listener.js';
import type { ProxyContext } from '../http-connection-manager/proxy-context.js';
import { sdsReferences } from '../transport-socket/sds-references.js';
import { toNetAddress, type NetAddress } from '../util/address.js';
import { bindListenSocket, type BoundSocket } from './listen-socket.js';
import type { ListenerStatus } from '../admin/listeners-status.js';

export class ListenerManager {
  private readonly active = new Map<string, ActiveListener>();
  private readonly json = new Map<string, string>();
  private readonly warming = new Map<string, listenerV3.ListenerJson>();
  private readonly staticNames = new Set<string>();
  /** Ready listeners waiting for the end of the start (`startServing`). */
  private readonly held = new Map<string, listenerV3.ListenerJson>();
  private serving = false;
  private closed = false;
  /** RDS names whose initial_fetch_timeout ran out before they arrived, and the running waits. */
  private readonly rdsGaveUp = new Set<string>();
  private readonly rdsTimers = new Map<string, NodeJS.Timeout>();
  /** SDS secrets whose initial_fetch_timeout ran out before they arrived: no listener waits for them. */
  private readonly secretsGaveUp = new Set<string>();
  /** Sockets bound at a listener's creation, by listener name, until it listens on them. */
  private readonly bound = new Map<string, { key: string; socket: BoundSocket }>();

  constructor(
    private readonly ctx: ProxyContext,
    private readonly originalDst: OriginalDstResolver,
    private readonly routeReady: (name: string) => boolean,
    private readonly reusePort = false,
    /** A warming listener became ready on its own (an RDS wait ran out). */
    private readonly onWarmed: () => void = () => {},
    /**
     * Worker threads: the port the primary's listener of that name is bound to, for a listener
     * configured with port 0 (undefined while the primary's is not bound).
     */
    private readonly sharedPort?: (name: string) => number | undefined,
  ) {}

  /**
   * Listener name → the port its socket is bound to, active or bound at creation (the primary
   * forwards them to the worker threads, which bind the same ports).
   */
  boundPorts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, b] of this.bound) out[name] = b.socket.address.port;
    for (const l of this.active.values()) {
      const b = l.boundAddress();
      if (b) out[l.name] = b.port;
    }
    return out;
  }

  /** The port a listener binds: its own, or on a worker thread the primary's for a port 0. */
  private portFor(name: string, configured: number): number | undefined {
    if (configured !== 0 || !this.sharedPort) return configured;
    return this.sharedPort(name);
  }

  get(name: string): ActiveListener | undefined {
    return this.active.get(name);
  }

  all(): ActiveListener[] {
    return [...this.active.values()];
  }

  warmingNames(): string[] {
    return [...this.warming.keys()];
  }

  /** RDS names needed by active and warming listeners. */
  routeNames(): string[] {
    const configs = [...this.all().map((l) => l.config), ...this.warming.values(), ...this.held.values()];
    return [...new Set(configs.flatMap((c) => ActiveListener.routeNames(c)))].sort();
  }

  async addStatic(l: listenerV3.ListenerJson): Promise<void> {
    // Checked now, so a bad static listener fails the start even when it is held.
    ActiveListener.validate(l, this.ctx);
    if (l.name) this.staticNames.add(l.name);
    await this.upsert(l);
  }

  /** Replaces the dynamic listeners with `list` (LDS state of the world). */
  async setDynamic(list: readonly listenerV3.ListenerJson[]): Promise<void> {
    const keep = new Set(list.map((l) => l.name ?? ''));
    for (const name of [...this.active.keys()]) {
      if (!keep.has(name) && !this.staticNames.has(name)) await this.remove(name);
    }
    for (const name of [...this.warming.keys()]) if (!keep.has(name)) this.warming.delete(name);
    for (const name of [...this.held.keys()])
      if (!keep.has(name) && !this.staticNames.has(name)) this.held.delete(name);
    for (const name of [...this.bound.keys()])
      if (!keep.has(name) && !this.staticNames.has(name)) this.releaseBound(name);
    for (const l of list) if (l.name && !this.staticNames.has(l.name)) await this.upsert(l);
  }

  private async upsert(l: listenerV3.ListenerJson): Promise<void> {
    const name = l.name ?? '';
    const text = JSON.stringify(l);
    if (this.json.get(name) === text && this.active.has(name)) return;
    const existing = this.active.get(name);
    const inPlace =
      existing !== undefined &&
      JSON.stringify(existing.config.address) === JSON.stringify(l.address) &&
      existing.config.bindToPort === l.bindToPort;
    if (!inPlace) this.bindAtCreation(l);
    // Envoy keeps a listener warming (not accepting) until its routes and SDS secrets are in.
    const waits = ActiveListener.rdsWaits(l).filter(
      (w) => !this.routeReady(w.name) && !this.rdsGaveUp.has(w.name),
    );
    const ready =
      waits.length === 0 &&
      sdsReferences([l]).every((r) => this.ctx.secrets.settled(r.name) || this.secretsGaveUp.has(r.name));
    if (!ready) {
      this.warming.set(name, l);
      for (const w of waits) this.waitForRoutes(w.name, w.timeoutMs);
      return;
    }
    if (!this.serving) {
      this.warming.delete(name);
      this.held.set(name, l);
      return;
    }
    try {
      if (existing && inPlace) {
        existing.update(l);
      } else {
        if (existing) await existing.drain();
        const next = new ActiveListener(l, this.ctx, {
          handoff: (dst) => this.forOriginalDst(dst),
          originalDst: this.originalDst,
          reusePort: this.reusePort,
        });
        const bound = this.bound.get(name)?.socket;
        this.bound.delete(name);
        const a = next.address;
        // A worker thread leaves a Unix socket to the primary (see the top of this file).
        if (a.kind === 'tcp' || !this.sharedPort)
          await next.bind(bound, a.kind === 'tcp' ? this.portFor(name, a.port) : undefined);
        // Stopped while it bound (a start ending as the proxy stops): no listener may outlive close().
        if (this.closed) {
          void next.close();
          return;
        }
        this.active.set(name, next);
        if (existing) void existing.close();
      }
      this.json.set(name, text);
    } finally {
      // Only now: while it binds, its route names stay subscribed (routeNames).
      if (this.warming.get(name) === l) this.warming.delete(name);
      if (this.held.get(name) === l) this.held.delete(name);
    }
  }

  /**
   * Binds a new TCP listener's socket now, as Envoy does at creation (listening comes when it
   * serves). Not for a port an active listener holds (a listener moving there binds when it
   * serves, after the other one let go), nor where binding fails now: the listener then binds when
   * it serves and reports the failure then, as before.
   */
  private bindAtCreation(l: listenerV3.ListenerJson): void {
    const name = l.name ?? '';
    if (this.closed) return;
    let a: NetAddress | undefined;
    try {
      a = l.bindToPort === false ? undefined : toNetAddress(l.address, `listener ${name}`);
    } catch {
      a = undefined;
    }
    const key = a?.kind === 'tcp' ? `${a.host}|${a.port}` : undefined;
    if (key !== undefined && this.bound.get(name)?.key === key) return;
    this.releaseBound(name);
    if (a?.kind !== 'tcp' || key === undefined) return;
    // A worker's port-0 listener binds the primary's port, once it has one (else when it serves).
    const port = this.portFor(name, a.port);
    if (port === undefined) return;
    if (port !== 0 && this.all().some((x) => x.address.kind === 'tcp' && x.address.port === port)) return;
    try {
      const socket = bindListenSocket(a.host, port, this.reusePort);
      if (socket) this.bound.set(name, { key, socket });
    } catch {
      // bound when it serves, which reports the error
    }
  }

  private releaseBound(name: string): void {
    this.bound.get(name)?.socket.close();
    this.bound.delete(name);
  }

  /**
   * What /listeners lists, as Envoy: the active listeners with the addresses they are bound to
   * (the real port of a port 0). During the start every listener is active in Envoy (those added
   * before its workers start skip warming), so the held and warming ones are listed then too.
   */
  statuses(): ListenerStatus[] {
    const out: ListenerStatus[] = [];
    for (const l of this.active.values()) {
      const b = l.boundAddress();
      out.push({ name: l.name, address: b ? { kind: 'tcp', host: b.address, port: b.port } : l.address });
    }
    if (this.serving) return out;
    const listed = new Set(out.map((s) => s.name));
    for (const [name, l] of [...this.held, ...this.warming]) {
      if (listed.has(name)) continue;
      listed.add(name);
      const b = this.bound.get(name)?.socket.address;
      let address: NetAddress;
      try {
        address = b ? { kind: 'tcp', host: b.address, port: b.port } : toNetAddress(l.address, name);
      } catch {
        continue;
      }
      out.push({ name, address });
    }
    return out;
  }

  /** Starts the initial_fetch_timeout of a route configuration a warming listener waits for. */
  private waitForRoutes(routeName: string, timeoutMs: number): void {
    if (timeoutMs <= 0 || this.rdsTimers.has(routeName)) return;
    const timer = setTimeout(() => {
      if (this.routeReady(routeName)) return;
      this.rdsGaveUp.add(routeName);
      void this.routesChanged().then(this.onWarmed, () => {});
    }, timeoutMs);
    timer.unref();
    this.rdsTimers.set(routeName, timer);
  }

  /**
   * An SDS secret's initial_fetch_timeout ran out: listeners waiting for it (and later ones) stop
   * waiting for it; their TLS handshakes fail until it arrives.
   */
  secretWaitOver(name: string): Promise<void> {
    this.secretsGaveUp.add(name);
    return this.routesChanged();
  }

  /** Names of ready listeners held until the start is over. */
  heldNames(): string[] {
    return [...this.held.keys()];
  }

  /**
   * The start is over: binds the held listeners (Envoy's listen() before its workers start) and
   * every later one as soon as it is ready. Rejects with the first listener that cannot bind.
   */
  async startServing(): Promise<void> {
    this.serving = true;
    let failure: unknown;
    for (const l of [...this.held.values()]) {
      try {
        await this.upsert(l);
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** Activates warming listeners whose routes and secrets have all arrived. */
  async routesChanged(): Promise<void> {
    for (const l of [...this.warming.values()]) await this.upsert(l);
  }

  private async remove(name: string): Promise<void> {
    const l = this.active.get(name);
    this.active.delete(name);
    this.json.delete(name);
    this.releaseBound(name);
    if (l) {
      await l.drain();
      void l.close();
    }
  }

  /** The listener whose address is the original destination (exact, then wildcard on the port). */
  forOriginalDst(dst: { address: string; port: number }): ActiveListener | undefined {
    let wildcard: ActiveListener | undefined;
    for (const l of this.active.values()) {
      const a = l.address;
      if (a.kind !== 'tcp' || a.port !== dst.port) continue;
      if (a.host === dst.address) return l;
      if (a.host === '0.0.0.0' || a.host === '::') wildcard ??= l;
    }
    return wildcard;
  }

  async drainAll(): Promise<void> {
    await Promise.all(this.all().map((l) => l.drain()));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.held.clear();
    for (const name of [...this.bound.keys()]) this.releaseBound(name);
    for (const t of this.rdsTimers.values()) clearTimeout(t);
    this.rdsTimers.clear();
    await Promise.all(this.all().map((l) => l.close()));
    this.active.clear();
  }
}
