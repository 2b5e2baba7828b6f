// The floor: a trivial state-of-the-world xDS server that holds one small fixed resource per
// type and, on a change command (a line on stdin: "RDS" or "EDS"), re-sends that type to every
// client with a new version. Run as its own process so its CPU and memory are its own.
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { adsServiceDefinition, discoveryV3, packAny, TypeUrl } from '@skein/api-types';
import { createInterface } from 'node:readline';

const fixed: Record<string, object> = {
  [TypeUrl.Cluster]: { name: 'c', type: 'EDS', edsClusterConfig: { edsConfig: { ads: {} } } },
  [TypeUrl.ClusterLoadAssignment]: {
    clusterName: 'c',
    endpoints: [
      { lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '10.0.0.1', portValue: 80 } } } }] },
    ],
  },
  [TypeUrl.Listener]: { name: 'l', address: { socketAddress: { address: '0.0.0.0', portValue: 8080 } } },
  [TypeUrl.RouteConfiguration]: {
    name: '8080',
    virtualHosts: [
      { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] },
    ],
  },
};
const version: Record<string, number> = {};
const streams = new Set<{
  types: Set<string>;
  stream: grpc.ServerDuplexStream<discoveryV3.DiscoveryRequest, discoveryV3.DiscoveryResponse>;
}>();
let nonce = 0;

function send(
  s: { stream: grpc.ServerDuplexStream<discoveryV3.DiscoveryRequest, discoveryV3.DiscoveryResponse> },
  typeUrl: string,
): void {
  const body = fixed[typeUrl];
  if (!body) return;
  s.stream.write(
    create(discoveryV3.DiscoveryResponseSchema, {
      typeUrl,
      versionInfo: String(version[typeUrl] ?? 0),
      nonce: String(++nonce),
      resources: [packAny(typeUrl, body)],
    }),
  );
}

const server = new grpc.Server();
server.addService(adsServiceDefinition, {
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
server.bindAsync(process.argv[2] ?? '127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
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
