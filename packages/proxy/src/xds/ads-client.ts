// The xDS client: one Aggregated Discovery Service stream over gRPC (@grpc/grpc-js) to the
// bootstrap's ads_config cluster, state of the world (SotW) or incremental (delta). It
// subscribes in Envoy's order (CDS, EDS, LDS, RDS), ACKs accepted responses and NACKs rejected
// ones with error_detail, keeps the last good configuration when rejected or disconnected, and
// reconnects with jittered exponential backoff, resending its subscriptions (resync).
import type * as grpc from '@grpc/grpc-js';
import {
  adsServiceDefinition,
  sdsServiceDefinition,
  discoveryV3,
  messageFromJson,
  TypeUrl,
  unpackAny,
  type coreBaseV3,
} from '@skein/api-types';
import type { Logger } from '../util/logger.js';
import { lazyRequire } from '../util/lazy-require.js';
import type { XdsSink, XdsResource } from './xds-sink.js';
import { unknownFieldNumbers } from './unknown-fields.js';

/** @grpc/grpc-js, required when the first xDS or SDS client starts. */
const grpcRuntime = lazyRequire<typeof grpc>('@grpc/grpc-js');

const RESOURCE_WRAPPER = 'type.googleapis.com/envoy.service.discovery.v3.Resource';

type DiscoveryRequest = discoveryV3.DiscoveryRequest;
type DiscoveryResponse = discoveryV3.DiscoveryResponse;
type DeltaRequest = discoveryV3.DeltaDiscoveryRequest;
type DeltaResponse = discoveryV3.DeltaDiscoveryResponse;

export interface AdsClientOptions {
  /** gRPC target: "host:port" or "unix:/path". */
  target: string;
  node: coreBaseV3.NodeJson;
  sink: XdsSink;
  log: Logger;
  delta?: boolean;
  /** 'ads' (default) or 'sds' (SecretDiscoveryService: StreamSecrets, or DeltaSecrets with `delta`). */
  service?: 'ads' | 'sds';
  /** Backoff bounds in ms. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
  /** Counters: update_success, update_rejected, update_attempt, connected. */
  onEvent?: (
    typeUrl: string,
    event: 'update_success' | 'update_rejected' | 'update_attempt' | 'connected' | 'disconnected',
  ) => void;
}

interface TypeState {
  /** Last accepted version_info. */
  version: string;
  nonce: string;
  /** Names last sent in a request. */
  sent: string[] | '*' | undefined;
  /** Delta: names and versions of resources we hold. */
  held: Map<string, string>;
}

function unwrap(any: { typeUrl: string; value: Uint8Array }): XdsResource {
  const { typeUrl, json } = unpackAny(any as Parameters<typeof unpackAny>[0]);
  // A cluster's fields newer than our API would be dropped by decoding: the proxy rejects them.
  const unknown =
    typeUrl === TypeUrl.Cluster || typeUrl === RESOURCE_WRAPPER
      ? unknownFieldNumbers(typeUrl, any.value, TypeUrl.Cluster)
      : [];
  const extra = unknown.length > 0 ? { unknownFields: unknown } : {};
  if (typeUrl === RESOURCE_WRAPPER) {
    const r = json as { name?: string; resource?: { '@type'?: string } & Record<string, unknown> };
    const inner = { ...(r.resource ?? {}) };
    delete inner['@type'];
    return { name: r.name ?? nameOf(inner), json: inner, ...extra };
  }
  const obj = { ...(json as Record<string, unknown>) };
  delete obj['@type'];
  return { name: nameOf(obj), json: obj, ...extra };
}

function nameOf(o: Record<string, unknown>): string {
  return String(o['name'] ?? o['clusterName'] ?? '');
}

export class AdsClient {
  private client: grpc.Client | undefined;
  private stream: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> | undefined;
  private deltaStream: grpc.ClientDuplexStream<DeltaRequest, DeltaResponse> | undefined;
  private readonly types = new Map<string, TypeState>();
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private firstMessage = true;
  /** Serialises response handling so updates apply in order. */
  private queue: Promise<void> = Promise.resolve();
  connected = false;

  constructor(private readonly opts: AdsClientOptions) {}

  start(): void {
    const grpcJs = grpcRuntime();
    this.client = new grpcJs.Client(this.opts.target, grpcJs.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
    this.connect();
  }

  private state(typeUrl: string): TypeState {
    let s = this.types.get(typeUrl);
    if (!s) {
      s = { version: '', nonce: '', sent: undefined, held: new Map() };
      this.types.set(typeUrl, s);
    }
    return s;
  }

  private connect(): void {
    if (this.stopped || !this.client) return;
    this.firstMessage = true;
    for (const s of this.types.values()) {
      s.sent = undefined;
      s.nonce = '';
    }
    const onEnd = (err?: unknown): void => this.disconnected(err);
    if (this.opts.delta) {
      const m =
        this.opts.service === 'sds'
          ? sdsServiceDefinition['deltaSecrets']
          : adsServiceDefinition['deltaAggregatedResources'];
      if (!m) throw new Error('delta xDS method missing');
      const stream = this.client.makeBidiStreamRequest(
        m.path,
        m.requestSerialize as (v: DeltaRequest) => Buffer,
        m.responseDeserialize as (b: Buffer) => DeltaResponse,
      );
      this.deltaStream = stream;
      stream.on('data', (r: DeltaResponse) => this.enqueue(() => this.onDelta(stream, r)));
      stream.on('error', onEnd);
      stream.on('end', onEnd);
    } else {
      const m =
        this.opts.service === 'sds'
          ? sdsServiceDefinition['streamSecrets']
          : adsServiceDefinition['streamAggregatedResources'];
      if (!m) throw new Error('ADS method missing');
      const stream = this.client.makeBidiStreamRequest(
        m.path,
        m.requestSerialize as (v: DiscoveryRequest) => Buffer,
        m.responseDeserialize as (b: Buffer) => DiscoveryResponse,
      );
      this.stream = stream;
      stream.on('data', (r: DiscoveryResponse) => this.enqueue(() => this.onSotw(stream, r)));
      stream.on('error', onEnd);
      stream.on('end', onEnd);
    }
    // Subscribe to whatever is ready now (resync after reconnect included).
    this.refreshSubscriptions();
  }

  private enqueue(fn: () => Promise<void>): void {
    this.queue = this.queue
      .then(fn)
      .catch((err: unknown) => this.opts.log.error('xds update failed', { error: String(err) }));
  }

  private disconnected(err?: unknown): void {
    const wasStream = this.stream ?? this.deltaStream;
    if (!wasStream) return;
    this.stream = undefined;
    this.deltaStream = undefined;
    if (this.connected) this.opts.onEvent?.('', 'disconnected');
    this.connected = false;
    wasStream.removeAllListeners();
    wasStream.on('error', () => {});
    wasStream.cancel();
    if (this.stopped) return;
    const base = this.opts.backoffBaseMs ?? 500;
    const max = this.opts.backoffMaxMs ?? 30_000;
    const ceiling = Math.min(max, base * 2 ** this.attempt);
    const delay = Math.floor(ceiling / 2 + (this.opts.random ?? Math.random)() * (ceiling / 2));
    this.attempt++;
    this.opts.log.warn('xds stream closed; reconnecting', {
      error: err ? String(err) : 'end',
      delayMs: delay,
    });
    this.timer = setTimeout(() => this.connect(), delay);
    this.timer.unref();
  }

  /** Sends requests for types whose wanted names changed or that are now ready. */
  refreshSubscriptions(): void {
    for (const typeUrl of this.opts.sink.order) {
      if (!this.opts.sink.canSubscribe(typeUrl)) continue;
      const s = this.state(typeUrl);
      const wanted = this.opts.sink.wanted(typeUrl);
      const same =
        s.sent !== undefined &&
        (wanted === '*' ? s.sent === '*' : s.sent !== '*' && s.sent.join('\n') === wanted.join('\n'));
      if (same) continue;
      if (wanted !== '*' && wanted.length === 0 && s.sent === undefined) continue;
      this.sendRequest(typeUrl, wanted, undefined);
    }
  }

  private nodeForRequest(): coreBaseV3.NodeJson | undefined {
    if (!this.firstMessage) return { id: this.opts.node.id ?? '', cluster: this.opts.node.cluster ?? '' };
    this.firstMessage = false;
    return this.opts.node;
  }

  private sendRequest(typeUrl: string, wanted: string[] | '*', error: string | undefined): void {
    const s = this.state(typeUrl);
    if (this.opts.delta) {
      const stream = this.deltaStream;
      if (!stream) return;
      const prev = s.sent === undefined || s.sent === '*' ? new Set<string>() : new Set(s.sent);
      const next = wanted === '*' ? new Set<string>() : new Set(wanted);
      const first = s.sent === undefined;
      const json: Record<string, unknown> = {
        typeUrl,
        resourceNamesSubscribe: [...next].filter((n) => !prev.has(n) || first),
        resourceNamesUnsubscribe: [...prev].filter((n) => !next.has(n)),
      };
      if (first && s.held.size > 0) json['initialResourceVersions'] = Object.fromEntries(s.held);
      const node = this.nodeForRequest();
      if (node) json['node'] = node;
      s.sent = wanted;
      stream.write(messageFromJson(discoveryV3.DeltaDiscoveryRequestSchema, json));
      return;
    }
    const stream = this.stream;
    if (!stream) return;
    const json: Record<string, unknown> = {
      versionInfo: s.version,
      typeUrl,
      responseNonce: s.nonce,
      resourceNames: wanted === '*' ? [] : wanted,
    };
    if (error !== undefined) json['errorDetail'] = { code: 3, message: error };
    const node = this.nodeForRequest();
    if (node) json['node'] = node;
    s.sent = wanted;
    stream.write(messageFromJson(discoveryV3.DiscoveryRequestSchema, json));
  }

  private async onSotw(
    stream: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>,
    r: DiscoveryResponse,
  ): Promise<void> {
    if (stream !== this.stream) return;
    this.markConnected();
    const typeUrl = r.typeUrl;
    const s = this.state(typeUrl);
    this.opts.onEvent?.(typeUrl, 'update_attempt');
    let error: string | undefined;
    let resources: XdsResource[] = [];
    try {
      resources = r.resources.map(unwrap);
    } catch (err) {
      error = `decoding ${typeUrl}: ${err instanceof Error ? err.message : String(err)}`;
    }
    const full = typeUrl.endsWith('.Listener') || typeUrl.endsWith('.Cluster');
    if (error === undefined) error = await this.opts.sink.apply(typeUrl, resources, r.versionInfo, full, []);
    if (stream !== this.stream) return;
    s.nonce = r.nonce;
    if (error === undefined) {
      s.version = r.versionInfo;
      this.opts.onEvent?.(typeUrl, 'update_success');
    } else {
      this.opts.onEvent?.(typeUrl, 'update_rejected');
      this.opts.log.warn('xds update rejected', { typeUrl, version: r.versionInfo, error });
    }
    const wanted = this.opts.sink.wanted(typeUrl);
    this.sendRequest(typeUrl, wanted, error);
    this.refreshSubscriptions();
  }

  private async onDelta(
    stream: grpc.ClientDuplexStream<DeltaRequest, DeltaResponse>,
    r: DeltaResponse,
  ): Promise<void> {
    if (stream !== this.deltaStream) return;
    this.markConnected();
    const typeUrl = r.typeUrl;
    const s = this.state(typeUrl);
    this.opts.onEvent?.(typeUrl, 'update_attempt');
    let error: string | undefined;
    const resources: XdsResource[] = [];
    try {
      for (const res of r.resources) {
        if (!res.resource) continue;
        const u = unwrap(res.resource);
        resources.push({ name: res.name || u.name, json: u.json });
      }
    } catch (err) {
      error = `decoding ${typeUrl}: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (error === undefined)
      error = await this.opts.sink.apply(typeUrl, resources, r.systemVersionInfo, false, r.removedResources);
    if (stream !== this.deltaStream) return;
    if (error === undefined) {
      for (const res of r.resources) s.held.set(res.name, res.version);
      for (const n of r.removedResources) s.held.delete(n);
      this.opts.onEvent?.(typeUrl, 'update_success');
    } else {
      this.opts.onEvent?.(typeUrl, 'update_rejected');
      this.opts.log.warn('xds delta update rejected', { typeUrl, error });
    }
    const json: Record<string, unknown> = { typeUrl, responseNonce: r.nonce };
    if (error !== undefined) json['errorDetail'] = { code: 3, message: error };
    stream.write(messageFromJson(discoveryV3.DeltaDiscoveryRequestSchema, json));
    this.refreshSubscriptions();
  }

  private markConnected(): void {
    if (!this.connected) {
      this.connected = true;
      this.attempt = 0;
      this.opts.onEvent?.('', 'connected');
    }
  }

  versionOf(typeUrl: string): string {
    return this.types.get(typeUrl)?.version ?? '';
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const s = this.stream ?? this.deltaStream;
    this.stream = undefined;
    this.deltaStream = undefined;
    if (s) {
      s.removeAllListeners();
      s.on('error', () => {});
      s.cancel();
    }
    this.client?.close();
  }
}
