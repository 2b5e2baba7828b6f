// The name table from skeind: an ADS stream subscribed to Istio's NameTable type
// (type.googleapis.com/istio.networking.nds.v1.NameTable), ACKing each push, reconnecting with backoff.
import * as grpc from '@grpc/grpc-js';
import { TypeUrl, adsServiceDefinition, decodeToJson, discoveryV3, messageFromJson } from '@skein/api-types';
import type { NameTableJson } from './name-table.js';

export interface NdsClientOptions {
  /** host:port or unix:/path of the xDS server. */
  address: string;
  credentials?: grpc.ChannelCredentials;
  nodeId: string;
  nodeMetadata?: Record<string, unknown>;
  onTable: (t: NameTableJson) => void;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

const Ads = grpc.makeGenericClientConstructor(adsServiceDefinition, 'AggregatedDiscoveryService');
type Req = discoveryV3.DiscoveryRequest;
type Res = discoveryV3.DiscoveryResponse;

export function subscribeNameTable(o: NdsClientOptions): { close(): void } {
  const client = new Ads(o.address, o.credentials ?? grpc.credentials.createInsecure());
  let closed = false;
  let backoff = 500;
  let call: grpc.ClientDuplexStream<Req, Res> | undefined;
  const request = (extra: Record<string, unknown>) =>
    messageFromJson(discoveryV3.DiscoveryRequestSchema, {
      typeUrl: TypeUrl.NameTable,
      ...extra,
    });
  const connect = () => {
    if (closed) return;
    const c = client.makeBidiStreamRequest(
      '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
      (m: Req) => adsServiceDefinition['streamAggregatedResources']!.requestSerialize(m),
      (b: Buffer) => adsServiceDefinition['streamAggregatedResources']!.responseDeserialize(b) as Res,
    );
    call = c;
    c.on('data', (r: Res) => {
      backoff = 500;
      const any = r.resources[0];
      if (any) o.onTable(decodeToJson(any.typeUrl, any.value) as NameTableJson);
      c.write(request({ versionInfo: r.versionInfo, responseNonce: r.nonce }));
    });
    c.on('error', (e: grpc.ServiceError) => {
      if (!closed) o.log?.('name table stream failed', { error: e.message, retryInMs: backoff });
    });
    c.on('status', () => {
      if (closed) return;
      setTimeout(connect, backoff).unref();
      backoff = Math.min(backoff * 2, 30_000);
    });
    c.write(request({ node: { id: o.nodeId, metadata: o.nodeMetadata ?? {} } }));
  };
  connect();
  return {
    close: () => {
      closed = true;
      call?.cancel();
      client.close();
    },
  };
}
