// The floor: a trivial state-of-the-world xDS server that holds one small fixed resource per
// type and, on a change command (a line on stdin: "RDS" or "EDS"), re-sends that type to every
// client with a new version. Run as its own process so its CPU and memory are its own.
// With `--sizes '{"<typeUrl>":{"resources":N,"bytes":B}}'` it serves, per type, N resources of
// B bytes in all instead (padding in a name field): the cost of moving skeind's bytes through
// the same clients with a server that does no work.
// Delta streams (DeltaAggregatedResources) get the same resources incrementally, plus VHDS: the
// route configuration without virtual hosts and its virtual hosts as VirtualHost resources; a
// change then sends one changed resource (a virtual host for "RDS", a load assignment for "EDS").
// With `--trace` it logs, per change, a `push trace` line on stderr like skeind's `--trace-push`:
// when the command was read, when the first and last stream writes began, when the last write was
// flushed and when the first and last ACK arrived (logged once all were, or after 2 s).
import { create, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { adsServiceDefinition, discoveryV3, packAny, TypeUrl } from '@skein/api-types';
import { createInterface } from 'node:readline';

const fixed: Record<string, object[]> = Object.fromEntries(
  Object.entries({
    [TypeUrl.Cluster]: { name: 'c', type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} } } },
    [TypeUrl.ClusterLoadAssignment]: {
      clusterName: 'c',
      endpoints: [
        {
          lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '10.0.0.1', portValue: 80 } } } }],
        },
      ],
    },
    [TypeUrl.Listener]: { name: 'l', address: { socketAddress: { address: '0.0.0.0', portValue: 8080 } } },
    [TypeUrl.RouteConfiguration]: {
      name: '8080',
      virtualHosts: [
        { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] },
      ],
    },
  }).map(([t, r]) => [t, [r]]),
);
const VIRTUAL_HOST = 'type.googleapis.com/envoy.config.route.v3.VirtualHost';
// VHDS: the virtual hosts of the route configuration as their own resources.
fixed[VIRTUAL_HOST] = (fixed[TypeUrl.RouteConfiguration] ?? []).flatMap((r) =>
  ((r as { virtualHosts?: { name: string }[] }).virtualHosts ?? []).map((vh) => ({
    ...vh,
    name: `${(r as { name: string }).name}/${vh.name}`,
  })),
);
const sizesArg = process.argv.indexOf('--sizes');
if (sizesArg > 0) {
  const sizes = JSON.parse(process.argv[sizesArg + 1] ?? '{}') as Record<
    string,
    { resources: number; bytes: number }
  >;
  for (const [typeUrl, { resources, bytes }] of Object.entries(sizes)) {
    const base = fixed[typeUrl]?.[0];
    if (!base || resources === 0) continue;
    const each = Math.max(1, Math.round(bytes / resources));
    const key = typeUrl === TypeUrl.ClusterLoadAssignment ? 'clusterName' : 'name';
    fixed[typeUrl] = Array.from({ length: resources }, (_, i) => ({
      ...base,
      [key]: `${i}-`.padEnd(Math.max(1, each - 40), 'x'),
    }));
  }
}
/** The route configuration as VHDS clients get it: no virtual hosts, VHDS over ADS. */
const vhdsShell = (fixed[TypeUrl.RouteConfiguration] ?? []).map((r) => {
  const { virtualHosts: _, ...rest } = r as { virtualHosts?: unknown };
  return { ...rest, vhds: { configSource: { ads: {}, resourceApiVersion: 'V3' } } };
});
const version: Record<string, number> = {};
const anys = new Map<string, ReturnType<typeof packAny>[]>();
/** Encoded once: the floor does no per-client work beyond writing. */
const encoded = (key: string, typeUrl: string, bodies: object[]): ReturnType<typeof packAny>[] => {
  let list = anys.get(key);
  if (!list) anys.set(key, (list = bodies.map((b) => packAny(typeUrl, b))));
  return list;
};
const streams = new Set<{
  types: Set<string>;
  stream: grpc.ServerDuplexStream<discoveryV3.DiscoveryRequest, discoveryV3.DiscoveryResponse>;
}>();

/** Serialized once per type and version; every client gets the same bytes. */
const responses = new Map<string, Buffer>();
function send(
  s: { stream: grpc.ServerDuplexStream<discoveryV3.DiscoveryRequest, discoveryV3.DiscoveryResponse> },
  typeUrl: string,
): void {
  const bodies = fixed[typeUrl];
  if (!bodies) return;
  const v = String(version[typeUrl] ?? 0);
  const key = `${typeUrl}|${v}`;
  let bytes = responses.get(key);
  if (!bytes) {
    const msg = create(discoveryV3.DiscoveryResponseSchema, {
      typeUrl,
      versionInfo: v,
      nonce: v,
      resources: encoded(typeUrl, typeUrl, bodies),
    });
    bytes = Buffer.from(toBinary(discoveryV3.DiscoveryResponseSchema, msg));
    responses.set(key, bytes);
  }
  s.stream.write(bytes as never, traceWrite());
}

type DeltaStream = grpc.ServerDuplexStream<
  discoveryV3.DeltaDiscoveryRequest,
  discoveryV3.DeltaDiscoveryResponse
>;
const deltaStreams = new Set<{ types: Set<string>; stream: DeltaStream }>();
/** Delta: everything at first, then on a change the first resource alone with a new version. */
const deltaResponses = new Map<string, Buffer>();
function sendDelta(s: { stream: DeltaStream }, typeUrl: string, change: boolean): void {
  const bodies = typeUrl === TypeUrl.RouteConfiguration ? vhdsShell : fixed[typeUrl];
  if (!bodies) return;
  const v = String(version[typeUrl] ?? 0);
  const key = `${typeUrl}|${v}|${change}`;
  let bytes = deltaResponses.get(key);
  if (!bytes) {
    const list = encoded(`${typeUrl}|delta`, typeUrl, bodies);
    const msg = create(discoveryV3.DeltaDiscoveryResponseSchema, {
      typeUrl,
      systemVersionInfo: v,
      nonce: v,
      resources: (change ? list.slice(0, 1) : list).map((any, i) => ({
        name: `${typeUrl}-${i}`,
        version: i === 0 ? v : '0',
        resource: any,
      })),
    });
    bytes = Buffer.from(toBinary(discoveryV3.DeltaDiscoveryResponseSchema, msg));
    deltaResponses.set(key, bytes);
  }
  s.stream.write(bytes as never, traceWrite());
}

/** The ADS definition with a response serializer that passes pre-serialized bytes through. */
const definition = Object.fromEntries(
  Object.entries(adsServiceDefinition).map(([name, m]) => [
    name,
    { ...m, responseSerialize: (v: unknown) => (Buffer.isBuffer(v) ? v : m.responseSerialize(v)) },
  ]),
) as grpc.ServiceDefinition;

const server = new grpc.Server({ 'grpc.max_send_message_length': -1 });
server.addService(definition, {
  streamAggregatedResources: (
    stream: grpc.ServerDuplexStream<discoveryV3.DiscoveryRequest, discoveryV3.DiscoveryResponse>,
  ) => {
    const s = { types: new Set<string>(), stream };
    streams.add(s);
    stream.on('data', (req: discoveryV3.DiscoveryRequest) => {
      if (req.responseNonce) return traceAck(); // ACK or NACK: nothing to do
      s.types.add(req.typeUrl);
      send(s, req.typeUrl);
    });
    const done = (): void => void streams.delete(s);
    stream.on('end', done);
    stream.on('error', done);
    stream.on('close', done);
  },
  deltaAggregatedResources: (
    stream: grpc.ServerDuplexStream<discoveryV3.DeltaDiscoveryRequest, discoveryV3.DeltaDiscoveryResponse>,
  ) => {
    const s = { types: new Set<string>(), stream };
    deltaStreams.add(s);
    stream.on('data', (req: discoveryV3.DeltaDiscoveryRequest) => {
      if (req.responseNonce) return traceAck(); // ACK or NACK
      if (s.types.has(req.typeUrl)) return;
      s.types.add(req.typeUrl);
      sendDelta(s, req.typeUrl, false);
    });
    const done = (): void => void deltaStreams.delete(s);
    stream.on('end', done);
    stream.on('error', done);
    stream.on('close', done);
  },
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`listening 127.0.0.1:${port}\n`);
});
const TRACE = process.argv.includes('--trace');
const epochMs = (): number => performance.timeOrigin + performance.now();
/** The open change's stages (epoch ms) and counts, while `--trace`. */
let stages: Record<string, number> | undefined;
let counts = { writes: 0, flushes: 0, acks: 0 };
let reportTimer: NodeJS.Timeout | undefined;
/** While the change's writes are being made (ACKs may arrive only after). */
let writing = false;
const report = (): void => {
  if (!stages) return;
  process.stderr.write(`${JSON.stringify({ msg: 'push trace', stages, ...counts })}\n`);
  stages = undefined;
  clearTimeout(reportTimer);
};
const complete = (): void => {
  if (stages && !writing && counts.flushes >= counts.writes && counts.acks >= counts.writes) report();
};
/** A traced write: its stage, and the write's callback (its flush) when traced. */
const traceWrite = (): (() => void) | undefined => {
  if (!stages) return undefined;
  const s = stages;
  const t = epochMs();
  s['firstWrite'] ??= t;
  s['lastWrite'] = t;
  counts.writes++;
  return () => {
    if (stages !== s) return;
    counts.flushes++;
    s['lastFlush'] = epochMs();
    complete();
  };
};
const traceAck = (): void => {
  if (!stages) return;
  const t = epochMs();
  counts.acks++;
  stages['firstAck'] ??= t;
  stages['lastAck'] = t;
  complete();
};
const short: Record<string, string> = { RDS: TypeUrl.RouteConfiguration, EDS: TypeUrl.ClusterLoadAssignment };
createInterface({ input: process.stdin }).on('line', (line) => {
  const typeUrl = short[line.trim()];
  if (!typeUrl) return;
  report(); // the previous change's, if still open
  if (TRACE) {
    stages = { changeRead: epochMs() };
    counts = { writes: 0, flushes: 0, acks: 0 };
    reportTimer = setTimeout(report, 2000);
    writing = true;
  }
  version[typeUrl] = (version[typeUrl] ?? 0) + 1;
  for (const s of streams) if (s.types.has(typeUrl)) send(s, typeUrl);
  // Delta: a VirtualService change is one virtual host (VHDS), an endpoint change one assignment.
  const deltaType = typeUrl === TypeUrl.RouteConfiguration ? VIRTUAL_HOST : typeUrl;
  if (deltaType === VIRTUAL_HOST) version[VIRTUAL_HOST] = version[typeUrl];
  for (const s of deltaStreams) if (s.types.has(deltaType)) sendDelta(s, deltaType, true);
  // Reported once every write was flushed and ACKed (or after 2 s).
  writing = false;
  complete();
});
process.stdin.on('end', () => process.exit(0));
// Stopped with SIGTERM: exit normally, so `--cpu-prof` in FLOOR_NODE_OPTIONS writes its profile.
process.on('SIGTERM', () => process.exit(0));
