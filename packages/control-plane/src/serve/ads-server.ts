// The ADS server: state-of-the-world and delta xDS over @grpc/grpc-js on one port. Versions are
// content hashes; a response is sent only when its content changed (or the client asked anew);
// an ACK records the acknowledged version, a NACK is logged, counted and kept for /debug/syncz
// while the client keeps its last accepted config. Pushes are scoped by the caller (push-scope).
import * as grpc from '@grpc/grpc-js';
import type { discoveryV3 } from '@skein/api-types';
import { adsServiceDefinition, TypeUrl, typeShortName, type XdsTypeUrl } from '@skein/api-types';
import type { Logger } from '../log.js';
import { parseProxy, type NodeInfo, type Proxy } from '../model/proxy.js';
import { verifiedIdentityOf } from './verified-identity.js';
import type { Snapshot } from '../model/snapshot.js';
import { translateContext, type TranslateContext, type TranslateMemos } from '../translate/context.js';
import { EndpointsMemo } from '../translate/endpoints-memo.js';
import {
  generateAll,
  generatorFor,
  isWildcardType,
  type Resource,
  type TypeGenerators,
} from '../translate/generators.js';
import { proxyClassKey, sameClassInputs } from '../translate/proxy-class.js';
import { VirtualHostMemo } from '../translate/vhost-memo.js';
import type { SecurityContributor } from '../translate/security.js';
import {
  aliasesOf,
  routeConfigsOf,
  vhdsGenerators,
  VIRTUAL_HOST_TYPE,
  wantsVhds,
} from '../translate/vhds.js';
import { Connection, heldMap, type TypeState } from './connection.js';
import type { XdsMetrics } from './metrics.js';
import { affects, type PushRequest } from './push-scope.js';
import { ResourceEncoder, responseVersion, type EncodedResource } from './resource-encoder.js';
import { diffByName, diffByPlaces } from './resource-diff.js';
import { SendBudget } from './send-budget.js';
import type { PushTrace } from './push-trace.js';
import { encodeDeltaResponse, encodeSotwResponse } from './discovery-response.js';
import { decodeDeltaRequest, decodeSotwRequest } from './ack-decoder.js';
import { sameNames, Subscriptions } from './subscriptions.js';

type DiscoveryRequest = discoveryV3.DiscoveryRequest;
type DeltaDiscoveryRequest = discoveryV3.DeltaDiscoveryRequest;

/** The order Istio pushes in: clusters before their endpoints, listeners before routes. */
export const PUSH_ORDER: readonly string[] = [
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Secret,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
  VIRTUAL_HOST_TYPE,
  TypeUrl.NameTable,
];

export interface XdsServerOptions {
  readonly snapshot: () => Snapshot;
  readonly metrics: XdsMetrics;
  readonly log: Logger;
  readonly security?: SecurityContributor | undefined;
  readonly now?: () => number;
  /** Bytes handed to streams and not yet flushed above which further sends wait (default 64 MiB). */
  readonly sendBudgetBytes?: number | undefined;
  /**
   * Streams written per event-loop turn during a push (default: all in one turn). A limit sends
   * the first streams' bytes while later ones are prepared, but lets ACKs interleave with the
   * push: measured with 2000 proxies it brought the first receipt forward and the last one back
   * (README, Benchmark), so it is off.
   */
  readonly streamsPerTurn?: number | undefined;
  /** `--trace-push`: told of every stream write. */
  readonly trace?: PushTrace | undefined;
  /**
   * Kubernetes mode: credentialName Secrets only for proxies whose verified service account may
   * list Secrets in their namespace; `review` is asked for each newly connected verified proxy.
   * Absent: every proxy may have its own namespace's (model/secret-access.ts).
   */
  readonly credentialReview?: { review(namespace: string, serviceAccount: string): void } | undefined;
}

/** A type waiting to be sent to a client; kept per client and type, reused push after push. */
interface Pending {
  active: boolean;
  force: boolean;
  changeAt: number | undefined;
}

interface Client {
  readonly conn: Connection;
  readonly write: (
    typeUrl: string,
    s: TypeState,
    resources: EncodedResource[],
    removed: string[],
    version: string,
  ) => string;
  ctx: TranslateContext | undefined;
  ctxVersion: string;
  classKey: string;
  /** The context and class key for a snapshot not yet current, built ahead (`prepare`). */
  ahead: { readonly ctx: TranslateContext; readonly classKey: string } | undefined;
  /** Served RDS without virtual hosts and the virtual hosts over VHDS (delta, opted in). */
  readonly vhds: boolean;
  /** Types waiting for the send budget (the active entries), with why. */
  readonly pending: Map<string, Pending>;
  /** Runs this client's pending sends (one closure per client, not one per schedule). */
  readonly flush: () => void;
}

const short = (t: string): string =>
  t === VIRTUAL_HOST_TYPE ? 'VHDS' : (typeShortName[t as XdsTypeUrl] ?? t);

export class XdsServer {
  private readonly server = new grpc.Server({
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': -1,
  });
  private readonly clients = new Map<string, Client>();
  private readonly encoder = new ResourceEncoder();
  /** Virtual hosts and load assignments by what determines them, kept across snapshots. */
  private readonly memos: TranslateMemos = {
    virtualHosts: new VirtualHostMemo(),
    endpoints: new EndpointsMemo(),
  };
  private memoVersion = '';
  /**
   * Shared (per proxy class) encoded resources of the current snapshot: by type, class key, then
   * subscription key (`*` for wildcard), so no per-send key is built.
   */
  private shared: SharedLists = new Map();
  /** The previous snapshot's `shared`, whose unchanged lists are carried over by identity. */
  private previousShared: SharedLists = new Map();
  private sharedVersion = '';
  /** A class's encoded list → its entry in `shared`, for as long as a stream holds the list. */
  private readonly sharedOf = new WeakMap<readonly EncodedResource[], SharedList>();
  private readonly now: () => number;
  private readonly budget: SendBudget<string>;
  private ids = 0;

  /** The ADS service implementation, also served on skeind's TLS port (see `security/`). */
  readonly adsHandlers = {
    streamAggregatedResources: (
      stream: grpc.ServerDuplexStream<DiscoveryRequest, discoveryV3.DiscoveryResponse>,
    ): void => this.sotw(stream),
    deltaAggregatedResources: (
      stream: grpc.ServerDuplexStream<DeltaDiscoveryRequest, discoveryV3.DeltaDiscoveryResponse>,
    ): void => this.delta(stream),
  };
  /** The ADS service definition matching `adsHandlers` (responses are pre-serialized). */
  readonly adsDefinition = passThroughResponses(adsServiceDefinition);

  constructor(private readonly opts: XdsServerOptions) {
    this.now = opts.now ?? Date.now;
    this.budget = new SendBudget({
      budgetBytes: opts.sendBudgetBytes ?? 64 * 1024 * 1024,
      streamsPerTurn: opts.streamsPerTurn,
    });
    this.server.addService(this.adsDefinition, this.adsHandlers);
  }

  /** Binds `host:port` (port 0 = ephemeral); resolves with the bound `host:port`. */
  listen(address: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) reject(err);
        else resolve(`${address.slice(0, address.lastIndexOf(':'))}:${port}`);
      });
    });
  }

  async close(): Promise<void> {
    this.budget.close();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 1000);
      this.server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
      for (const c of this.clients.values()) void c;
    });
    this.server.forceShutdown();
  }

  get connections(): readonly Connection[] {
    return [...this.clients.values()].map((c) => c.conn);
  }

  /**
   * Serialized SotW responses (nonce included) of resource lists shared by many proxies (a
   * class's list, or the change between two of them), by list identity.
   */
  private serialized = new WeakMap<
    readonly EncodedResource[],
    { bytes: Buffer; nonce: string; seq: number }
  >();
  private nonceSeq = 0;
  private readonly subscriptions = new Subscriptions();
  private readonly sharedLists = new WeakSet<readonly EncodedResource[]>();
  /** SotW EDS: the load assignments that changed from one shared list to another. */
  private readonly changes = new WeakMap<
    readonly EncodedResource[],
    WeakMap<readonly EncodedResource[], EncodedResource[] | undefined>
  >();

  /**
   * The response bytes and nonce for `resources`. A list shared by a class is serialized once per
   * push, nonce included, and the same bytes go to every stream; a stream that already had that
   * nonce (a resend) gets a fresh one, so each stream sees strictly increasing nonces.
   */
  private sotwResponse(
    typeUrl: string,
    resources: readonly EncodedResource[],
    version: string,
    s: TypeState,
  ): { bytes: Buffer; nonce: string; seq: number } {
    const cacheable = this.sharedLists.has(resources);
    const hit = cacheable ? this.serialized.get(resources) : undefined;
    if (hit && hit.seq > (s.sentSeq ?? 0)) return hit;
    const seq = ++this.nonceSeq;
    const nonce = seq.toString(36);
    const bytes = encodeSotwResponse({
      versionInfo: version,
      typeUrl,
      resources: resources.map((r) => r.any),
      nonce,
      controlPlane: 'skeind',
    });
    const out = { bytes, nonce, seq };
    if (cacheable) this.serialized.set(resources, out);
    return out;
  }

  /**
   * The delta response bytes and nonce. A list shared by a class (its full set, or the change
   * between two of its lists) with nothing removed and no aliases is serialized once, nonce
   * included, and the same bytes go to every stream; nonces come from one sequence, so a stream
   * that already had that nonce gets a fresh one, as for SotW.
   */
  private deltaResponse(
    typeUrl: string,
    resources: readonly EncodedResource[],
    removed: readonly string[],
    version: string,
    s: TypeState,
  ): { bytes: Buffer; nonce: string; seq: number } {
    const cacheable = removed.length === 0 && !s.aliases && this.sharedLists.has(resources);
    const hit = cacheable ? this.serializedDelta.get(resources) : undefined;
    if (hit && hit.version === version && hit.seq > (s.sentSeq ?? 0)) return hit;
    const seq = ++this.nonceSeq;
    const nonce = seq.toString(36);
    const bytes = encodeDeltaResponse({
      systemVersionInfo: version,
      typeUrl,
      nonce,
      resources,
      removed,
      controlPlane: 'skeind',
      aliases: s.aliases,
    });
    const out = { bytes, nonce, seq, version };
    if (cacheable) this.serializedDelta.set(resources, out);
    return out;
  }

  private serializedDelta = new WeakMap<
    readonly EncodedResource[],
    { bytes: Buffer; nonce: string; seq: number; version: string }
  >();

  /** Recomputes and sends what changed to every client the push request affects. */
  push(req: PushRequest): number {
    this.encoder.rotate();
    let reached = 0;
    for (const c of this.clients.values()) {
      const ctx = this.context(c);
      if (!affects(ctx, req)) continue;
      reached++;
      for (const t of req.types ?? PUSH_ORDER)
        if (c.conn.types.has(t)) this.schedule(c, t, false, req.changeAt);
    }
    return reached;
  }

  /** Bytes written to streams and not yet flushed, and streams waiting to be written. */
  get backlog(): { bytes: number; streams: number } {
    return { bytes: this.budget.bytesInFlight, streams: this.budget.waiting };
  }

  /** Sends `typeUrl` to `c` as soon as the send budget allows (at once when it does). */
  private schedule(c: Client, typeUrl: string, force: boolean, changeAt?: number): void {
    const p = c.pending.get(typeUrl);
    if (!p) c.pending.set(typeUrl, { active: true, force, changeAt });
    else if (!p.active) {
      p.active = true;
      p.force = force;
      p.changeAt = changeAt;
    } else {
      p.force ||= force;
      if (changeAt !== undefined) p.changeAt = Math.min(p.changeAt ?? changeAt, changeAt);
    }
    this.budget.schedule(c.conn.id, c.flush);
  }

  private flushPending(c: Client): void {
    const connected = this.clients.has(c.conn.id);
    // Istio's order first, then any other type (nothing allocated: this runs once per stream).
    let known = 0;
    for (const t of PUSH_ORDER) {
      const p = c.pending.get(t);
      if (!p) continue;
      known++;
      this.take(c, t, p, connected);
    }
    if (known < c.pending.size)
      for (const [t, p] of c.pending) if (!PUSH_ORDER.includes(t)) this.take(c, t, p, connected);
  }

  /** Sends a pending type (when active) and marks it done before sending (a send may schedule again). */
  private take(c: Client, typeUrl: string, p: Pending, connected: boolean): void {
    if (!p.active) return;
    p.active = false;
    if (connected) this.send(c, typeUrl, p.force, p.changeAt);
  }

  /** Everything a connected proxy would be sent now, as canonical JSON by type. */
  configDump(proxyId: string): Record<string, unknown[]> | undefined {
    const c = [...this.clients.values()].find((x) => x.conn.proxy.id === proxyId);
    if (!c) return undefined;
    const ctx = this.context(c);
    const out: Record<string, unknown[]> = {};
    for (const t of PUSH_ORDER) {
      const s = c.conn.types.get(t);
      const gen = this.generator(c, ctx, t);
      if (!gen) continue;
      const names = s && !s.wildcard ? [...s.names] : [];
      const bodies = generateAll(gen, ctx, names).map((r) => r.body);
      // Private keys never leave through the debug port (Envoy's config_dump redacts them too).
      out[short(t)] = t === TypeUrl.Secret ? bodies.map(redactSecret) : bodies;
    }
    return out;
  }

  private context(c: Client): TranslateContext {
    const snap = this.opts.snapshot();
    if (!c.ctx || c.ctxVersion !== snap.version) {
      if (this.memoVersion !== snap.version) {
        this.memos.virtualHosts.rotate();
        this.memos.endpoints.rotate();
        this.memoVersion = snap.version;
      }
      const ahead = c.ahead;
      c.ahead = undefined;
      if (ahead?.ctx.snapshot === snap) {
        this.contextsAhead++;
        c.ctx = ahead.ctx;
        c.classKey = ahead.classKey;
      } else {
        const prev = c.ctx;
        c.ctx = translateContext(snap, c.conn.proxy, this.opts.security, this.memos);
        if (!prev || !sameClassInputs(prev, c.ctx)) c.classKey = this.classKeyOf(c, c.ctx);
      }
      c.ctxVersion = snap.version;
    }
    return c.ctx;
  }

  private classKeyOf(c: Client, ctx: TranslateContext): string {
    return proxyClassKey(ctx) + (c.vhds ? '|vhds' : '');
  }

  /** Contexts taken from `prepare` when their snapshot became current (for tests and logs). */
  contextsAhead = 0;

  /**
   * Builds every connected proxy's context and class key for `snap` before it is current (while a
   * change settles, for the snapshot built ahead), so a push for it starts writing at once instead
   * of first building 2000 contexts. Used only if `snap` itself becomes current; any other
   * snapshot, or a later `prepare`, discards them.
   */
  prepare(snap: Snapshot): void {
    for (const c of this.clients.values()) {
      const ctx = translateContext(snap, c.conn.proxy, this.opts.security, this.memos);
      // A class key stands for the class inputs: the current one holds while they are the same.
      const classKey = c.ctx && sameClassInputs(c.ctx, ctx) ? c.classKey : this.classKeyOf(c, ctx);
      c.ahead = { ctx, classKey };
    }
  }

  /** The generators of a type for a client: VHDS clients get RDS without virtual hosts, and VHDS. */
  private generator(c: Client, ctx: TranslateContext, typeUrl: string): TypeGenerators | undefined {
    return (c.vhds ? vhdsGenerators[typeUrl] : undefined) ?? generatorFor(ctx, typeUrl);
  }

  private register(
    node: NodeInfo | undefined,
    protocol: 'sotw' | 'delta',
    write: Client['write'],
    fail: (msg: string) => void,
    verifiedIdentity: string | undefined,
  ): Client | undefined {
    const parsed = parseProxy(node ?? {});
    if (!parsed.ok) {
      this.opts.log.warn('rejecting xDS stream', { error: parsed.error });
      fail(parsed.error);
      return undefined;
    }
    const reviewer = this.opts.credentialReview;
    // The TLS port's gate has checked that the node claims its verified namespace and account.
    const proxy: Proxy = reviewer
      ? { ...parsed.proxy, credentialAccess: verifiedIdentity ? 'review' : 'unverified' }
      : parsed.proxy;
    if (reviewer && verifiedIdentity) reviewer.review(proxy.namespace, proxy.serviceAccount);
    const id = `${proxy.podName}.${proxy.namespace}-${++this.ids}`;
    const client: Client = {
      conn: new Connection(id, proxy, protocol, this.now()),
      write,
      ctx: undefined,
      ctxVersion: '',
      classKey: '',
      ahead: undefined,
      vhds: protocol === 'delta' && wantsVhds(proxy),
      pending: new Map(),
      flush: () => this.flushPending(client),
    };
    this.clients.set(id, client);
    this.opts.metrics.connected.set(this.clients.size);
    this.opts.log.info('proxy connected', {
      proxy: proxy.id,
      connection: id,
      protocol,
      generator: proxy.generator,
      vhds: client.vhds,
    });
    return client;
  }

  private unregister(c: Client | undefined): void {
    if (!c || !this.clients.delete(c.conn.id)) return;
    this.budget.forget(c.conn.id);
    this.opts.metrics.connected.set(this.clients.size);
    this.opts.log.info('proxy disconnected', { proxy: c.conn.proxy.id, connection: c.conn.id });
  }

  /** Generates and sends one type to one client if its content changed (or `force`). */
  private send(c: Client, typeUrl: string, force: boolean, changeAt?: number): void {
    const s = c.conn.state(typeUrl);
    const ctx = this.context(c);
    const gen = this.generator(c, ctx, typeUrl);
    let resources: EncodedResource[] = [];
    let version = EMPTY_VERSION;
    try {
      if (s.namesKey === undefined) {
        s.sortedNames = [...s.names].sort();
        s.namesKey = s.sortedNames.join(',');
      }
      const names = s.wildcard ? [] : (s.sortedNames ?? []);
      if (gen && (s.wildcard || names.length > 0)) {
        if (this.sharedVersion !== ctx.snapshot.version) {
          this.previousShared = this.shared;
          this.shared = new Map();
          this.sharedVersion = ctx.snapshot.version;
        }
        let byClass = this.shared.get(typeUrl);
        if (!byClass) this.shared.set(typeUrl, (byClass = new Map()));
        let byNames = byClass.get(c.classKey);
        if (!byNames) byClass.set(c.classKey, (byNames = new Map()));
        const namesKey = s.wildcard ? '*' : (s.namesKey ?? '');
        let shared = byNames.get(namesKey);
        if (!shared) {
          const generated = gen.shared.generate(ctx, names);
          // The class's list one snapshot before, or else the one this stream was last sent
          // (a push of other types in between: an endpoint change, then a route change).
          const last = c.conn.protocol === 'delta' ? s.heldList : s.sentList;
          const before =
            this.previousShared.get(typeUrl)?.get(c.classKey)?.get(namesKey) ??
            (last && this.sharedOf.get(last)) ??
            (s.merged && this.sharedOf.get(s.merged.shared));
          // Places where the class's list holds what it held before keep their encoding.
          const list = this.encoder.encodeList(
            typeUrl,
            generated,
            before && { generated: before.generated, encoded: before.resources },
          );
          // Unchanged since the previous snapshot: the previous list itself (no hash), so every
          // stream holding it sees "same list" without comparing a thousand versions. It keeps
          // the latest generated list, whose objects the next snapshot's list shares.
          if (before && sameEncoded(before.resources, list)) {
            shared = before;
            before.generated = generated;
          } else {
            shared = { resources: list, version: responseVersion(list), generated };
            this.sharedLists.add(list);
            this.sharedOf.set(list, shared);
          }
          byNames.set(namesKey, shared);
        }
        const own = gen.own
          ? gen.own.generate(ctx, names).map((r) => this.encoder.encode(typeUrl, r))
          : NO_OWN;
        const m = s.merged;
        if (own.length === 0) {
          resources = shared.resources;
          version = shared.version;
        } else if (m && m.shared === shared.resources && sameEncoded(m.own, own)) {
          // Neither this proxy's own resources nor its class's list changed: no merge, no hash.
          resources = m.resources;
          version = m.version;
        } else {
          resources = mergeEncoded(own, shared.resources);
          // The response version: the shared part's, combined with this proxy's own resources.
          version = responseVersion([{ name: '', version: shared.version }, ...own]);
          s.merged = { shared: shared.resources, own, resources, version };
        }
      }
    } catch (err) {
      this.opts.metrics.pushErrors.inc({ type: short(typeUrl) });
      this.opts.log.error('generation failed; the proxy keeps its last config', {
        proxy: c.conn.proxy.id,
        type: short(typeUrl),
        error: String(err),
      });
      return;
    }
    if (c.conn.protocol === 'sotw') {
      if (!force && version === s.sentVersion) return;
      // EDS (like RDS, unlike LDS/CDS) need not repeat unchanged resources in SotW: a push sends
      // the load assignments that differ from what the proxy last accepted, as istiod does.
      const payload =
        !force && typeUrl === TypeUrl.ClusterLoadAssignment && s.ackedList
          ? (this.changed(s.ackedList, resources) ?? resources)
          : resources;
      this.emit(c, typeUrl, s, payload, [], version, changeAt);
      s.sentList = resources;
      s.resources = resources.length;
      return;
    }
    // VHDS on demand: a virtual host newly asked for by `<route config>/<host>` goes (again) with
    // that alias, even when the client holds it, so the client's paused request can resume.
    const aliases = typeUrl === VIRTUAL_HOST_TYPE ? this.vhdsAliases(ctx, s, resources) : undefined;
    let changed: EncodedResource[];
    let removed: readonly string[];
    if (s.heldList && !aliases) {
      // The client holds a list it was sent: the change between two lists, computed once per
      // class for lists shared by a class (thousands of streams, one diff).
      ({ changed, removed } = this.deltaDiff(s.heldList, resources));
    } else {
      const held = heldMap(s);
      changed =
        held.size === 0 && !aliases
          ? (resources as EncodedResource[]) // nothing held yet: the list itself (shared)
          : resources.filter(
              (r) =>
                held.get(r.name) !== r.version ||
                (aliases?.get(r.name)?.some((a) => !s.answered?.has(a)) ?? false),
            );
      const present = new Set(resources.map((r) => r.name));
      removed = [...held.keys()].filter((n) => !present.has(n));
    }
    // From here on the client holds exactly `resources`: kept as the list, not a map per stream.
    s.heldList = resources;
    if (s.held.size > 0) s.held.clear(); // clearing allocates a new table even when empty
    if (!force && changed.length === 0 && removed.length === 0) return;
    s.aliases = aliases;
    if (aliases) for (const list of aliases.values()) for (const a of list) (s.answered ??= new Set()).add(a);
    this.emit(c, typeUrl, s, changed, [...removed], version, changeAt);
  }

  private readonly deltaChanges = new WeakMap<
    readonly EncodedResource[],
    WeakMap<readonly EncodedResource[], { changed: EncodedResource[]; removed: string[] }>
  >();

  /** Delta: what changed from `prev` to `next` (memoized for lists shared by a class). */
  private deltaDiff(
    prev: readonly EncodedResource[],
    next: readonly EncodedResource[],
  ): { changed: EncodedResource[]; removed: string[] } {
    if (prev === next) return NO_CHANGE;
    const memo = this.sharedLists.has(prev) && this.sharedLists.has(next);
    const byPrev = memo ? this.deltaChanges.get(prev) : undefined;
    const hit = byPrev?.get(next);
    if (hit) return hit;
    // A class's list patched from the one the stream holds: only the patched places compared.
    const patch = this.encoder.patchOf(next);
    const out = patch?.from === prev ? diffByPlaces(prev, next, patch.places) : diffByName(prev, next);
    if (memo) {
      this.sharedLists.add(out.changed);
      const m = byPrev ?? new WeakMap();
      m.set(next, out);
      this.deltaChanges.set(prev, m);
    }
    return out;
  }

  /** Resource name → the on-demand names (`<route config>/<host>`) it answers, when any were asked. */
  private vhdsAliases(
    ctx: TranslateContext,
    s: TypeState,
    resources: readonly EncodedResource[],
  ): Map<string, string[]> | undefined {
    let asked: string[] | undefined;
    for (const n of s.names) if (n.includes('/')) (asked ??= []).push(n);
    if (!asked) return undefined;
    const configs = routeConfigsOf(ctx);
    const out = new Map<string, string[]>();
    for (const r of resources) {
      const list = aliasesOf(r.name, asked, configs);
      if (list.length > 0) out.set(r.name, list);
    }
    return out;
  }

  private emit(
    c: Client,
    typeUrl: string,
    s: TypeState,
    resources: EncodedResource[],
    removed: string[],
    version: string,
    changeAt?: number,
  ): void {
    try {
      const nonce = c.write(typeUrl, s, resources, removed, version);
      const now = this.now();
      s.sentVersion = version;
      s.sentNonce = nonce;
      s.sentAt = now;
      s.ackLagMs = null;
      s.changeAt = changeAt ?? now;
      this.opts.metrics.countPush(short(typeUrl));
      if (this.opts.log.debugEnabled !== false)
        this.opts.log.debug('push', {
          proxy: c.conn.proxy.id,
          type: short(typeUrl),
          version,
          nonce,
          resources: resources.length,
          removed: removed.length,
        });
    } catch (err) {
      this.opts.metrics.pushErrors.inc({ type: short(typeUrl) });
      this.opts.log.error('send failed', {
        proxy: c.conn.proxy.id,
        type: short(typeUrl),
        error: String(err),
      });
    }
  }

  /**
   * The resources of `next` not in `prev` with the same version, or undefined when one was
   * removed (then the whole list goes). Memoized for lists shared by a class.
   */
  private changed(
    prev: readonly EncodedResource[],
    next: readonly EncodedResource[],
  ): EncodedResource[] | undefined {
    const memo = this.sharedLists.has(prev) && this.sharedLists.has(next);
    const byPrev = memo ? this.changes.get(prev) : undefined;
    if (byPrev?.has(next)) return byPrev.get(next);
    const before = new Map(prev.map((r) => [r.name, r.version]));
    const names = new Set(next.map((r) => r.name));
    let out: EncodedResource[] | undefined = next.filter((r) => before.get(r.name) !== r.version);
    for (const n of before.keys()) if (!names.has(n)) out = undefined;
    if (memo) {
      if (out) this.sharedLists.add(out);
      const m = byPrev ?? new WeakMap();
      m.set(next, out);
      this.changes.set(prev, m);
    }
    return out;
  }

  /** SotW: the stream's names become the shared subscription equal to them. */
  private subscribe(s: TypeState, requested: readonly string[]): void {
    const sub = this.subscriptions.intern(requested);
    s.sub = sub;
    s.names = sub.names as Set<string>; // never mutated (delta streams copy it first)
    s.sortedNames = sub.sorted;
    s.namesKey = sub.key;
  }

  /** ACK/NACK bookkeeping shared by both protocols. Returns false for a stale nonce. */
  private acknowledge(
    c: Client,
    typeUrl: string,
    nonce: string,
    version: string,
    error: string | undefined,
  ): boolean {
    const s = c.conn.state(typeUrl);
    if (nonce !== s.sentNonce) return false; // stale: a response the client has not seen yet supersedes it
    const now = this.now();
    if (error !== undefined) {
      s.nack = { version: s.sentVersion, nonce, message: error, at: new Date(now).toISOString() };
      this.opts.metrics.rejects.inc({ type: short(typeUrl) });
      this.opts.log.warn('NACK: the proxy rejected a push and keeps its last accepted config', {
        proxy: c.conn.proxy.id,
        type: short(typeUrl),
        nonce,
        ackedVersion: version,
        error,
      });
      return true;
    }
    s.ackedVersion = version || s.sentVersion;
    s.ackedNonce = nonce;
    s.ackedList = s.sentList;
    s.ackedAt = now;
    s.ackLagMs = s.sentAt === undefined ? null : now - s.sentAt;
    this.opts.trace?.acked();
    if (s.changeAt !== undefined) {
      this.opts.metrics.observeConvergence((now - s.changeAt) / 1000);
      s.changeAt = undefined;
    }
    return true;
  }

  private sotw(stream: grpc.ServerDuplexStream<DiscoveryRequest, discoveryV3.DiscoveryResponse>): void {
    let client: Client | undefined;
    const write: Client['write'] = (typeUrl, s, resources, _removed, version) => {
      const { bytes, nonce, seq } = this.sotwResponse(typeUrl, resources, version, s);
      s.sentSeq = seq;
      const flushed = this.budget.track(client?.conn.id ?? '', bytes.length);
      const trace = this.opts.trace;
      trace?.write();
      stream.write(bytes as never, trace ? () => (flushed(), trace.flushed()) : flushed);
      return nonce;
    };
    stream.on('data', (req: DiscoveryRequest) => {
      if (!client)
        client = this.register(
          nodeInfo(req.node),
          'sotw',
          write,
          (m) => stream.destroy(grpcError(m)),
          verifiedIdentityOf(req),
        );
      if (!client) return;
      const typeUrl = req.typeUrl;
      const s = client.conn.state(typeUrl);
      const wildcardAsked = req.resourceNames.length === 0 || req.resourceNames.includes('*');
      if (req.responseNonce) {
        if (
          !this.acknowledge(
            client,
            typeUrl,
            req.responseNonce,
            req.versionInfo,
            req.errorDetail ? req.errorDetail.message || `code ${req.errorDetail.code}` : undefined,
          )
        )
          return;
        if (req.errorDetail) return;
        const wildcard = isWildcardType(this.context(client), typeUrl) && wildcardAsked;
        if (wildcard === s.wildcard && sameNames(s.sub, req.resourceNames)) return;
        this.subscribe(s, req.resourceNames);
        s.wildcard = wildcard;
        this.schedule(client, typeUrl, true);
        return;
      }
      s.wildcard = isWildcardType(this.context(client), typeUrl) && wildcardAsked;
      this.subscribe(s, req.resourceNames);
      this.schedule(client, typeUrl, true);
    });
    stream.on('error', () => this.unregister(client));
    stream.on('end', () => {
      this.unregister(client);
      stream.end();
    });
    stream.on('close', () => this.unregister(client));
  }

  private delta(
    stream: grpc.ServerDuplexStream<DeltaDiscoveryRequest, discoveryV3.DeltaDiscoveryResponse>,
  ): void {
    let client: Client | undefined;
    const write: Client['write'] = (typeUrl, s, resources, removed, version) => {
      const { bytes, nonce, seq } = this.deltaResponse(typeUrl, resources, removed, version, s);
      s.sentSeq = seq;
      const flushed = this.budget.track(client?.conn.id ?? '', bytes.length);
      const trace = this.opts.trace;
      trace?.write();
      stream.write(bytes as never, trace ? () => (flushed(), trace.flushed()) : flushed);
      return nonce;
    };
    stream.on('data', (req: DeltaDiscoveryRequest) => {
      if (!client)
        client = this.register(
          nodeInfo(req.node),
          'delta',
          write,
          (m) => stream.destroy(grpcError(m)),
          verifiedIdentityOf(req),
        );
      if (!client) return;
      const typeUrl = req.typeUrl;
      const s = client.conn.state(typeUrl);
      const ctx = this.context(client);
      const first = !s.sentNonce && s.names.size === 0 && !s.wildcard;
      if (req.responseNonce) {
        if (
          !this.acknowledge(
            client,
            typeUrl,
            req.responseNonce,
            s.sentVersion,
            req.errorDetail ? req.errorDetail.message || `code ${req.errorDetail.code}` : undefined,
          )
        ) {
          if (req.resourceNamesSubscribe.length === 0 && req.resourceNamesUnsubscribe.length === 0) return;
        }
      }
      if (first) {
        for (const [name, version] of Object.entries(req.initialResourceVersions)) s.held.set(name, version);
        s.wildcard =
          isWildcardType(ctx, typeUrl) &&
          (req.resourceNamesSubscribe.length === 0 || req.resourceNamesSubscribe.includes('*'));
      }
      let changed = first;
      // The names are a shared (interned) subscription between requests: copied before a change.
      const own = (): Set<string> => {
        if (s.sub) {
          s.names = new Set(s.names);
          s.sub = undefined;
        }
        return s.names;
      };
      for (const n of req.resourceNamesSubscribe) {
        if (n === '*') {
          changed = changed || !s.wildcard;
          s.wildcard = true;
        } else if (!s.names.has(n)) {
          own().add(n);
          s.namesKey = undefined;
          changed = true;
        }
      }
      for (const n of req.resourceNamesUnsubscribe) {
        if (n === '*') s.wildcard = false;
        own().delete(n);
        s.namesKey = undefined;
        heldMap(s).delete(n);
        s.answered?.delete(n);
        changed = true;
      }
      // Thousands of proxies of a class subscribe to the same names: held once.
      if (changed && !s.sub) this.subscribe(s, [...s.names]);
      if (changed) this.schedule(client, typeUrl, first);
    });
    stream.on('error', () => this.unregister(client));
    stream.on('end', () => {
      this.unregister(client);
      stream.end();
    });
    stream.on('close', () => this.unregister(client));
  }
}

/** Encoded lists shared by the proxies of a class: by type, class key, subscription key. */
type SharedLists = Map<string, Map<string, Map<string, SharedList>>>;

/** A class's encoded list and its version, and the generated list it was last encoded from. */
interface SharedList {
  readonly resources: EncodedResource[];
  readonly version: string;
  generated: readonly Resource[];
}

/** No own resources (never mutated). */
const NO_OWN: EncodedResource[] = [];

/** The version of an empty response (computed once, not per send). */
const EMPTY_VERSION = responseVersion([]);

/** Two identical lists: nothing to send (shared, never mutated). */
const NO_CHANGE: { changed: EncodedResource[]; removed: string[] } = Object.freeze({
  changed: [],
  removed: [],
}) as { changed: EncodedResource[]; removed: string[] };

/**
 * The ADS definition whose response serializer also accepts bytes serialized in advance, and
 * whose request deserializers read a plain ACK without the general decoder (ack-decoder).
 */
function passThroughResponses(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, m] of Object.entries(def)) {
    const serialize = m.responseSerialize;
    const deserialize =
      name === 'deltaAggregatedResources'
        ? decodeDeltaRequest
        : name === 'streamAggregatedResources'
          ? decodeSotwRequest
          : m.requestDeserialize;
    out[name] = {
      ...m,
      requestDeserialize: deserialize,
      responseSerialize: (v: unknown) =>
        Buffer.isBuffer(v)
          ? v // what the server writes: no view allocated per write
          : v instanceof Uint8Array
            ? Buffer.from(v.buffer, v.byteOffset, v.byteLength)
            : serialize(v),
    };
  }
  return out;
}

function nodeInfo(node: discoveryV3.DiscoveryRequest['node']): NodeInfo | undefined {
  if (!node) return undefined;
  return {
    id: node.id,
    cluster: node.cluster,
    metadata: (node.metadata ?? {}) as Record<string, unknown>,
    locality: node.locality
      ? { region: node.locality.region, zone: node.locality.zone, subZone: node.locality.subZone }
      : undefined,
  };
}

function grpcError(message: string): Error {
  return Object.assign(new Error(message), { code: grpc.status.INVALID_ARGUMENT, details: message });
}

/** Same names and versions in the same order. */
function sameEncoded(a: readonly EncodedResource[], b: readonly EncodedResource[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x?.name !== y?.name || x?.version !== y?.version) return false;
  }
  return true;
}

function mergeEncoded(own: EncodedResource[], shared: EncodedResource[]): EncodedResource[] {
  if (own.length === 0) return shared;
  const taken = new Set(own.map((r) => r.name));
  return [...own, ...shared.filter((r) => !taken.has(r.name))].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
}

function redactSecret(body: object): object {
  const s = body as { tlsCertificate?: Record<string, unknown> };
  return s.tlsCertificate?.['privateKey'] === undefined
    ? body
    : { ...s, tlsCertificate: { ...s.tlsCertificate, privateKey: { inlineString: '[redacted]' } } };
}
