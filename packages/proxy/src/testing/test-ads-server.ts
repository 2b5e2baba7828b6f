// A tiny in-process ADS server (state of the world and delta, plus SDS over both) for tests and demos: serves
// whatever resources it is given per type, pushes changes to connected proxies, and records
// every request so tests can assert ACKs, NACKs and error_detail. Not a control plane.
import * as grpc from '@grpc/grpc-js';
import {
  adsServiceDefinition,
  discoveryV3,
  messageFromJson,
  messageToJson,
  sdsServiceDefinition,
} from '@skein/api-types';
import { VIRTUAL_HOST_TYPE } from '../xds/vhds-routes.js';

export interface TestAdsRequest {
  typeUrl: string;
  versionInfo: string;
  responseNonce: string;
  resourceNames: string[];
  errorDetail?: { code?: number; message?: string };
  node?: { id?: string };
  delta: boolean;
}

interface Snapshot {
  version: string;
  resources: Map<string, unknown>;
}

interface SotwStream {
  kind: 'sotw';
  call: grpc.ServerDuplexStream<discoveryV3.DiscoveryRequest, discoveryV3.DiscoveryResponse>;
  subscribed: Map<string, string[]>;
  lastNonce: Map<string, string>;
}

interface DeltaStream {
  kind: 'delta';
  call: grpc.ServerDuplexStream<discoveryV3.DeltaDiscoveryRequest, discoveryV3.DeltaDiscoveryResponse>;
  /** typeUrl → subscribed names ('*' wildcard) */
  subscribed: Map<string, Set<string>>;
  /** typeUrl → name → version the client has */
  has: Map<string, Map<string, string>>;
  /** typeUrl → subscribed names already reported absent (`reportAbsent`) */
  toldAbsent: Map<string, Set<string>>;
}

export interface TestAdsServer {
  /** "127.0.0.1:port" or "unix:path" as the proxy's ads cluster needs it. */
  readonly port: number;
  /** Replaces every resource of a type (keyed by name) and pushes them with a new version. */
  set(typeUrl: string, resources: readonly unknown[], version?: string): void;
  readonly requests: TestAdsRequest[];
  /** Resolves with the first recorded request (from now on, or already recorded) that satisfies the predicate. */
  waitForRequest(pred: (r: TestAdsRequest) => boolean): Promise<TestAdsRequest>;
  /** Number of currently open ADS streams. */
  readonly streams: number;
  /** Ends every open stream with UNAVAILABLE (the proxy should reconnect). */
  dropStreams(): void;
  close(): Promise<void>;
}

function nameOf(r: unknown): string {
  const o = r as { name?: string; clusterName?: string };
  return o.name ?? o.clusterName ?? '';
}

export async function startTestAdsServer(
  opts: {
    port?: number;
    host?: string;
    /**
     * Delta: a name subscribed explicitly that the server does not have is sent once in
     * `removed_resources`, as istiod does (e.g. a gateway's missing credentialName secret).
     */
    reportAbsent?: boolean;
  } = {},
): Promise<TestAdsServer> {
  const server = new grpc.Server();
  const snapshots = new Map<string, Snapshot>();
  const streams = new Set<SotwStream | DeltaStream>();
  const requests: TestAdsRequest[] = [];
  const waiters: { pred: (r: TestAdsRequest) => boolean; resolve: (r: TestAdsRequest) => void }[] = [];
  let nonce = 0;
  let counter = 0;

  const record = (r: TestAdsRequest): void => {
    requests.push(r);
    for (const w of [...waiters]) {
      if (w.pred(r)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(r);
      }
    }
  };

  const sendSotw = (s: SotwStream, typeUrl: string): void => {
    const snap = snapshots.get(typeUrl);
    const names = s.subscribed.get(typeUrl);
    if (!snap || names === undefined) return;
    const wildcard = names.length === 0;
    const resources = [...snap.resources.entries()]
      .filter(([n]) => wildcard || names.includes(n))
      .map(([, r]) => ({ '@type': typeUrl, ...(r as object) }));
    const n = String(++nonce);
    s.lastNonce.set(typeUrl, n);
    s.call.write(
      messageFromJson(discoveryV3.DiscoveryResponseSchema, {
        versionInfo: snap.version,
        typeUrl,
        nonce: n,
        resources,
      }),
    );
  };

  const sendDelta = (s: DeltaStream, typeUrl: string): void => {
    const snap = snapshots.get(typeUrl);
    const subs = s.subscribed.get(typeUrl);
    if (!snap || !subs) return;
    const has = s.has.get(typeUrl) ?? new Map<string, string>();
    s.has.set(typeUrl, has);
    const wildcard = subs.has('*');
    // VHDS: a route configuration's name subscribes to its virtual hosts `<route config>/<host>`.
    const vhds = (n: string): boolean =>
      typeUrl === VIRTUAL_HOST_TYPE && subs.has(n.slice(0, n.lastIndexOf('/')));
    const resources: unknown[] = [];
    for (const [name, r] of snap.resources) {
      if (!wildcard && !subs.has(name) && !vhds(name)) continue;
      if (has.get(name) === snap.version) continue;
      has.set(name, snap.version);
      resources.push({ name, version: snap.version, resource: { '@type': typeUrl, ...(r as object) } });
    }
    const removed = [...has.keys()].filter(
      (n) => !snap.resources.has(n) || (!wildcard && !subs.has(n) && !vhds(n)),
    );
    for (const n of removed) has.delete(n);
    if (opts.reportAbsent && !wildcard) {
      const told = s.toldAbsent.get(typeUrl) ?? new Set<string>();
      s.toldAbsent.set(typeUrl, told);
      for (const n of subs) {
        if (snap.resources.has(n)) told.delete(n);
        else if (!told.has(n) && !removed.includes(n)) {
          told.add(n);
          removed.push(n);
        }
      }
    }
    if (resources.length === 0 && removed.length === 0) return;
    s.call.write(
      messageFromJson(discoveryV3.DeltaDiscoveryResponseSchema, {
        systemVersionInfo: snap.version,
        typeUrl,
        nonce: String(++nonce),
        resources,
        removedResources: removed,
      }),
    );
  };

  const sotwHandler = (call: SotwStream['call']): void => {
    const s: SotwStream = { kind: 'sotw', call, subscribed: new Map(), lastNonce: new Map() };
    streams.add(s);
    call.on('data', (req: discoveryV3.DiscoveryRequest) => {
      const j = messageToJson(discoveryV3.DiscoveryRequestSchema, req) as Omit<TestAdsRequest, 'delta'>;
      const r: TestAdsRequest = {
        typeUrl: j.typeUrl ?? '',
        versionInfo: j.versionInfo ?? '',
        responseNonce: j.responseNonce ?? '',
        resourceNames: j.resourceNames ?? [],
        delta: false,
        ...(j.errorDetail ? { errorDetail: j.errorDetail } : {}),
        ...(j.node ? { node: j.node } : {}),
      };
      record(r);
      const prevNames = s.subscribed.get(r.typeUrl);
      s.subscribed.set(r.typeUrl, r.resourceNames);
      const stale = r.responseNonce !== '' && r.responseNonce !== s.lastNonce.get(r.typeUrl);
      if (stale) return;
      const snap = snapshots.get(r.typeUrl);
      const namesChanged = prevNames === undefined || prevNames.join('\n') !== r.resourceNames.join('\n');
      if (snap && (r.versionInfo !== snap.version || namesChanged) && !(r.errorDetail && !namesChanged))
        sendSotw(s, r.typeUrl);
    });
    call.on('error', () => streams.delete(s));
    call.on('end', () => {
      streams.delete(s);
      call.end();
    });
    call.on('cancelled', () => streams.delete(s));
  };

  const deltaHandler = (call: DeltaStream['call']): void => {
    const s: DeltaStream = {
      kind: 'delta',
      call,
      subscribed: new Map(),
      has: new Map(),
      toldAbsent: new Map(),
    };
    streams.add(s);
    call.on('data', (req: discoveryV3.DeltaDiscoveryRequest) => {
      const j = messageToJson(discoveryV3.DeltaDiscoveryRequestSchema, req) as {
        typeUrl?: string;
        responseNonce?: string;
        resourceNamesSubscribe?: string[];
        resourceNamesUnsubscribe?: string[];
        initialResourceVersions?: Record<string, string>;
        errorDetail?: { code?: number; message?: string };
        node?: { id?: string };
      };
      const typeUrl = j.typeUrl ?? '';
      record({
        typeUrl,
        versionInfo: '',
        responseNonce: j.responseNonce ?? '',
        resourceNames: j.resourceNamesSubscribe ?? [],
        delta: true,
        ...(j.errorDetail ? { errorDetail: j.errorDetail } : {}),
        ...(j.node ? { node: j.node } : {}),
      });
      let subs = s.subscribed.get(typeUrl);
      const first = !subs;
      if (!subs) {
        subs = new Set();
        s.subscribed.set(typeUrl, subs);
      }
      for (const n of j.resourceNamesSubscribe ?? []) subs.add(n);
      for (const n of j.resourceNamesUnsubscribe ?? []) subs.delete(n);
      if (first && (j.resourceNamesSubscribe ?? []).length === 0) subs.add('*');
      if (first && j.initialResourceVersions)
        s.has.set(typeUrl, new Map(Object.entries(j.initialResourceVersions)));
      if (j.responseNonce && j.responseNonce !== '') {
        if ((j.resourceNamesSubscribe ?? []).length === 0 && (j.resourceNamesUnsubscribe ?? []).length === 0)
          return;
      }
      sendDelta(s, typeUrl);
    });
    call.on('error', () => streams.delete(s));
    call.on('end', () => {
      streams.delete(s);
      call.end();
    });
    call.on('cancelled', () => streams.delete(s));
  };

  server.addService(sdsServiceDefinition, {
    streamSecrets: sotwHandler,
    deltaSecrets: deltaHandler,
    fetchSecrets: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
      cb({ code: grpc.status.UNIMPLEMENTED }),
  });
  server.addService(adsServiceDefinition, {
    streamAggregatedResources: sotwHandler,
    deltaAggregatedResources: deltaHandler,
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${opts.host ?? '127.0.0.1'}:${opts.port ?? 0}`,
      grpc.ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  );

  return {
    port,
    requests,
    get streams() {
      return streams.size;
    },
    set(typeUrl, resources, version) {
      const snap: Snapshot = {
        version: version ?? `v${++counter}`,
        resources: new Map(resources.map((r) => [nameOf(r), r])),
      };
      snapshots.set(typeUrl, snap);
      for (const s of streams) {
        if (s.kind === 'sotw') sendSotw(s, typeUrl);
        else sendDelta(s, typeUrl);
      }
    },
    waitForRequest(pred) {
      const found = requests.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    dropStreams() {
      for (const s of [...streams]) {
        s.call.end();
        streams.delete(s);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.call.destroy();
        streams.clear();
        server.tryShutdown(() => resolve());
        server.forceShutdown();
      }),
  };
}
