// The floor: a trivial state-of-the-world xDS server that holds one small fixed resource per
// type and, on a change command (a line on stdin: "RDS" or "EDS"), re-sends that type to every
// client with a new version. Run as its own process so its CPU and memory are its own.
// With `--sizes '{"<typeUrl>":{"resources":N,"bytes":B}}'` it serves, per type, N resources of
// B bytes in all instead (padding in a name field): the cost of moving skeind's bytes through
// the same clients with a server that does no work.
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
const version: Record<string, number> = {};
const anys = new Map<string, ReturnType<typeof packAny>[]>();
/** Encoded once: the floor does no per-client work beyond writing. */
const encoded = (typeUrl: string, bodies: object[]): ReturnType<typeof packAny>[] => {
  let list = anys.get(typeUrl);
  if (!list) anys.set(typeUrl, (list = bodies.map((b) => packAny(typeUrl, b))));
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
      resources: encoded(typeUrl, bodies),
    });
    bytes = Buffer.from(toBinary(discoveryV3.DiscoveryResponseSchema, msg));
    responses.set(key, bytes);
  }
  s.stream.write(bytes as never);
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
      if (req.responseNonce) return; // ACK or NACK: nothing to do
      s.types.add(req.typeUrl);
      send(s, req.typeUrl);
    });
    const done = (): void => void streams.delete(s);
    stream.on('end', done);
    stream.on('error', done);
    stream.on('close', done);
  },
  deltaAggregatedResources: (stream: grpc.ServerDuplexStream<unknown, unknown>) => stream.end(),
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`listening 127.0.0.1:${port}\n`);
});
const short: Record<string, string> = { RDS: TypeUrl.RouteConfiguration, EDS: TypeUrl.ClusterLoadAssignment };
createInterface({ input: process.stdin }).on('line', (line) => {
  const typeUrl = short[line.trim()];
  if (!typeUrl) return;
  version[typeUrl] = (version[typeUrl] ?? 0) + 1;
  for (const s of streams) if (s.types.has(typeUrl)) send(s, typeUrl);
});
process.stdin.on('end', () => process.exit(0));
