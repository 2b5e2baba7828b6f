// A lightweight ADS client for tests and the benchmark: one gRPC connection and one stream,
// state-of-the-world or delta, ACKing every response (or NACKing when told to), following
// Envoy's subscription pattern (CDS/LDS wildcard, then EDS/RDS by the names they reference, and
// on delta streams VHDS by the names of route configurations that point at it).
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { adsServiceDefinition, decodeToJson, discoveryV3, TypeUrl } from '@skein/api-types';

type Json = Record<string, unknown>;

export const VIRTUAL_HOST_TYPE = 'type.googleapis.com/envoy.config.route.v3.VirtualHost';
/** Types whose resources a following client reads (decoded even when `decode` is false). */
const FOLLOWED: readonly string[] = [TypeUrl.Cluster, TypeUrl.Listener, TypeUrl.RouteConfiguration];

export interface AdsClientOptions {
  readonly address: string;
  readonly nodeId: string;
  readonly metadata?: Record<string, unknown>;
  readonly delta?: boolean;
  /** Decode resources to JSON (tests); the benchmark skips it. */
  readonly decode?: boolean;
  /** Follow CDS→EDS and LDS→RDS like Envoy (default true). */
  readonly follow?: boolean;
  /** Return an error message to NACK a response. */
  readonly reject?: (typeUrl: string, resources: Json[]) => string | undefined;
  /** Initial subscriptions: type → names (empty = wildcard). */
  readonly subscribe?: Readonly<Record<string, readonly string[]>>;
}

export interface TypeView {
  version: string;
  nonce: string;
  /** name → JSON (decoded) or null when not decoded. */
  resources: Map<string, Json | null>;
  responses: number;
  /** The last response's resource count and encoded size (bytes of the resources' Anys). */
  last: { resources: number; bytes: number };
  /** The encoded size of every response's resources so far. */
  bytes: number;
}

const Client = grpc.makeGenericClientConstructor(adsServiceDefinition, 'AggregatedDiscoveryService');

export class AdsClient {
  readonly types = new Map<string, TypeView>();
  private readonly client: grpc.Client;
  private readonly stream: grpc.ClientDuplexStream<unknown, unknown>;
  private readonly waiters: (() => void)[] = [];
  private first = true;
  private readonly subscribed = new Map<string, Set<string>>();
  closed = false;
  error: Error | undefined;

  private readonly opts: AdsClientOptions;
  /** When each type last received a response (performance.now()). */
  readonly receivedAt = new Map<string, number>();

  constructor(opts: AdsClientOptions) {
    this.opts = opts;
    // A subchannel pool of its own: every client holds its own TCP connection, like a real proxy.
    this.client = new Client(opts.address, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_receive_message_length': -1,
      // Envoy's default HTTP/2 window (256 MiB, stream and connection): a large response arrives
      // without a WINDOW_UPDATE round trip per 64 KiB, as it does for a real sidecar.
      'grpc-node.flow_control_window': 256 * 1024 * 1024,
    });
    const method = opts.delta ? 'deltaAggregatedResources' : 'streamAggregatedResources';
    // waitForReady: like a proxy, keep trying to connect instead of failing the stream at once.
    type Open = (md: grpc.Metadata) => grpc.ClientDuplexStream<unknown, unknown>;
    this.stream = (this.client as unknown as Record<string, Open>)[method]!.call(
      this.client,
      new grpc.Metadata({ waitForReady: true }),
    );
    this.stream.on('data', (m: unknown) =>
      opts.delta
        ? this.onDelta(m as discoveryV3.DeltaDiscoveryResponse)
        : this.onSotw(m as discoveryV3.DiscoveryResponse),
    );
    this.stream.on('error', (e: Error) => {
      this.error = e;
      this.closed = true;
      this.wake();
    });
    this.stream.on('end', () => {
      this.closed = true;
      this.wake();
    });
    const subs = opts.subscribe ?? { [TypeUrl.Cluster]: [], [TypeUrl.Listener]: [] };
    for (const [t, names] of Object.entries(subs)) this.request(t, names);
  }

  private node() {
    if (!this.first) return undefined;
    this.first = false;
    return { id: this.opts.nodeId, metadata: this.opts.metadata ?? {}, locality: {} } as never;
  }

  /** (Re)subscribes a type to exactly `names`. */
  request(typeUrl: string, names: readonly string[]): void {
    const view = this.types.get(typeUrl);
    if (this.opts.delta) {
      const before = this.subscribed.get(typeUrl) ?? new Set<string>();
      const after = new Set(names);
      this.stream.write(
        create(discoveryV3.DeltaDiscoveryRequestSchema, {
          node: this.node(),
          typeUrl,
          resourceNamesSubscribe: [...after].filter((n) => !before.has(n)),
          resourceNamesUnsubscribe: [...before].filter((n) => !after.has(n)),
        }),
      );
      this.subscribed.set(typeUrl, after);
      return;
    }
    this.subscribed.set(typeUrl, new Set(names));
    this.stream.write(
      create(discoveryV3.DiscoveryRequestSchema, {
        node: this.node(),
        typeUrl,
        resourceNames: [...names],
        versionInfo: view?.version ?? '',
        responseNonce: view?.nonce ?? '',
      }),
    );
  }

  private view(typeUrl: string): TypeView {
    let v = this.types.get(typeUrl);
    if (!v) {
      v = {
        version: '',
        nonce: '',
        resources: new Map(),
        responses: 0,
        last: { resources: 0, bytes: 0 },
        bytes: 0,
      };
      this.types.set(typeUrl, v);
    }
    return v;
  }

  private onSotw(m: discoveryV3.DiscoveryResponse): void {
    const decoded = m.resources.map((a) =>
      this.opts.decode === false && this.opts.follow === false
        ? null
        : (decodeToJson(a.typeUrl, a.value) as Json),
    );
    const err = this.opts.reject?.(
      m.typeUrl,
      decoded.filter((d): d is Json => d !== null),
    );
    const view = this.view(m.typeUrl);
    this.receivedAt.set(m.typeUrl, performance.now());
    if (err === undefined) {
      view.version = m.versionInfo;
      const received = decoded.map((d, i): [string, Json | null] => [
        String(d?.['name'] ?? d?.['clusterName'] ?? i),
        this.opts.decode === false ? null : d,
      ]);
      // SotW: a Listener or Cluster response is the whole set; an EDS or RDS response may carry
      // only the resources that changed (Envoy and gRPC keep the others they subscribed to).
      const partial = m.typeUrl === TypeUrl.ClusterLoadAssignment || m.typeUrl === TypeUrl.RouteConfiguration;
      const keep = this.subscribed.get(m.typeUrl);
      view.resources = partial
        ? new Map([...[...view.resources].filter(([n]) => keep?.has(n)), ...received])
        : new Map(received);
    }
    view.nonce = m.nonce;
    view.responses++;
    view.last = { resources: m.resources.length, bytes: m.resources.reduce((n, a) => n + a.value.length, 0) };
    view.bytes += view.last.bytes;
    this.stream.write(
      create(discoveryV3.DiscoveryRequestSchema, {
        typeUrl: m.typeUrl,
        versionInfo: view.version,
        responseNonce: m.nonce,
        resourceNames: [...(this.subscribed.get(m.typeUrl) ?? [])],
        ...(err !== undefined ? { errorDetail: { code: 3, message: err } } : {}),
      }),
    );
    if (err === undefined) {
      const refs =
        m.typeUrl === TypeUrl.RouteConfiguration ? this.refsOf(m.typeUrl) : new Map<string, string[]>();
      decoded.forEach((d, i) =>
        refs.set(String(d?.['name'] ?? d?.['clusterName'] ?? i), refsOf(m.typeUrl, d)),
      );
      this.refs.set(m.typeUrl, refs);
      this.follow(m.typeUrl);
    }
    this.wake();
  }

  private onDelta(m: discoveryV3.DeltaDiscoveryResponse): void {
    const view = this.view(m.typeUrl);
    this.receivedAt.set(m.typeUrl, performance.now());
    const decoded = m.resources.map((r) =>
      r.resource &&
      (this.opts.decode !== false || (this.opts.follow !== false && FOLLOWED.includes(m.typeUrl)))
        ? (decodeToJson(r.resource.typeUrl, r.resource.value) as Json)
        : null,
    );
    const err = this.opts.reject?.(
      m.typeUrl,
      decoded.filter((d): d is Json => d !== null),
    );
    if (err === undefined) {
      m.resources.forEach((r, i) =>
        view.resources.set(r.name, this.opts.decode === false ? null : (decoded[i] ?? null)),
      );
      for (const n of m.removedResources) view.resources.delete(n);
      view.version = m.systemVersionInfo;
    }
    view.nonce = m.nonce;
    view.responses++;
    view.last = {
      resources: m.resources.length,
      bytes: m.resources.reduce((n, r) => n + (r.resource?.value.length ?? 0), 0),
    };
    view.bytes += view.last.bytes;
    this.stream.write(
      create(discoveryV3.DeltaDiscoveryRequestSchema, {
        typeUrl: m.typeUrl,
        responseNonce: m.nonce,
        ...(err !== undefined ? { errorDetail: { code: 3, message: err } } : {}),
      }),
    );
    if (err === undefined) {
      const refs = this.refsOf(m.typeUrl);
      m.resources.forEach((r, i) => refs.set(r.name, refsOf(m.typeUrl, decoded[i] ?? null, true)));
      for (const n of m.removedResources) refs.delete(n);
      this.follow(m.typeUrl);
    }
    this.wake();
  }

  /** The names each held resource of a type makes the client subscribe to (what it follows). */
  private readonly refs = new Map<string, Map<string, string[]>>();
  private refsOf(typeUrl: string): Map<string, string[]> {
    let m = this.refs.get(typeUrl);
    if (!m) this.refs.set(typeUrl, (m = new Map()));
    return m;
  }

  /**
   * Envoy's pattern: after CDS, subscribe to the EDS names; after LDS, to the RDS names; on delta,
   * after RDS, to VHDS with the names of the route configurations that use it.
   */
  private follow(typeUrl: string): void {
    if (this.opts.follow === false) return;
    const target = FOLLOWS[typeUrl];
    if (!target) return;
    const want = new Set([...(this.refs.get(typeUrl)?.values() ?? [])].flat());
    const cur = this.subscribed.get(target);
    if (!cur && want.size === 0 && target === VIRTUAL_HOST_TYPE) return;
    if (cur && cur.size === want.size && [...want].every((n) => cur.has(n))) return;
    this.request(target, [...want].sort());
  }

  private wake(): void {
    const w = this.waiters.splice(0);
    for (const f of w) f();
  }

  /** Resolves when `cond` holds after some response (checked immediately too). */
  until(cond: (c: AdsClient) => boolean, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('AdsClient.until: timed out')), timeoutMs);
      const check = (): void => {
        if (cond(this)) {
          clearTimeout(timer);
          resolve();
        } else if (this.closed) {
          clearTimeout(timer);
          reject(this.error ?? new Error('stream closed'));
        } else this.waiters.push(check);
      };
      check();
    });
  }

  resource(typeUrl: string, name: string): Json | undefined {
    return this.types.get(typeUrl)?.resources.get(name) ?? undefined;
  }

  close(): void {
    this.closed = true;
    this.stream.cancel();
    this.client.close();
  }
}

const FOLLOWS: Readonly<Record<string, string>> = {
  [TypeUrl.Cluster]: TypeUrl.ClusterLoadAssignment,
  [TypeUrl.Listener]: TypeUrl.RouteConfiguration,
  [TypeUrl.RouteConfiguration]: VIRTUAL_HOST_TYPE,
};

/** What one resource makes a following client subscribe to. */
function refsOf(typeUrl: string, r: Json | null, delta = false): string[] {
  if (!r) return [];
  if (typeUrl === TypeUrl.Cluster)
    return r['type'] === 'EDS'
      ? [String((r['edsClusterConfig'] as Json | undefined)?.['serviceName'] ?? r['name'])]
      : [];
  if (typeUrl === TypeUrl.Listener)
    return [
      ...new Set([...JSON.stringify(r).matchAll(/"routeConfigName":"([^"]+)"/g)].map((x) => x[1] ?? '')),
    ];
  if (typeUrl === TypeUrl.RouteConfiguration && delta && r['vhds'] !== undefined) return [String(r['name'])];
  return [];
}

/**
 * A raw SotW ADS stream (bytes in, bytes out) to `address` with `credentials` and, when given, a
 * bearer token: for tests of who may open a stream and what it is first sent. Close both when done.
 */
export function openRawAdsStream(
  address: string,
  credentials: grpc.ChannelCredentials,
  token?: string,
  options: grpc.ClientOptions = {},
): { client: grpc.Client; stream: grpc.ClientDuplexStream<Uint8Array, Buffer> } {
  const client = new grpc.Client(address, credentials, options);
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  const stream = client.makeBidiStreamRequest(
    '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
    (b: Uint8Array) => Buffer.from(b),
    (b: Buffer) => b,
    md,
  );
  return { client, stream };
}
