import { describe, expect, it } from 'vitest';
import { decodeToJson, encodeJson, packAny, unpackAny } from './codec.js';
import { TypeUrl } from './type-urls.js';

const listener = {
  name: 'virtualOutbound',
  address: { socketAddress: { address: '0.0.0.0', portValue: 15001 } },
  useOriginalDst: true,
  filterChains: [
    {
      filters: [
        {
          name: 'envoy.filters.network.tcp_proxy',
          typedConfig: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
            statPrefix: 'PassthroughCluster',
            cluster: 'PassthroughCluster',
            idleTimeout: '3600s',
          },
        },
      ],
    },
  ],
};

describe('xDS codec', () => {
  it('round-trips canonical JSON through binary, nested Any included', () => {
    expect(decodeToJson(TypeUrl.Listener, encodeJson(TypeUrl.Listener, listener))).toEqual(listener);
  });

  it('accepts the original snake_case field names, as Envoy YAML uses them', () => {
    const snake = { name: 'x', address: { socket_address: { address: '127.0.0.1', port_value: 15000 } } };
    expect(decodeToJson(TypeUrl.Listener, encodeJson(TypeUrl.Listener, snake))).toEqual({
      name: 'x',
      address: { socketAddress: { address: '127.0.0.1', portValue: 15000 } },
    });
  });

  it('packs and unpacks google.protobuf.Any by type URL', () => {
    const any = packAny(TypeUrl.Cluster, {
      name: 'outbound|9080||reviews.default.svc.cluster.local',
      type: 'EDS',
    });
    expect(any.typeUrl).toBe(TypeUrl.Cluster);
    expect(unpackAny(any)).toEqual({
      typeUrl: TypeUrl.Cluster,
      json: { name: 'outbound|9080||reviews.default.svc.cluster.local', type: 'EDS' },
    });
  });

  it('rejects unknown fields and unknown types with their names', () => {
    expect(() => encodeJson(TypeUrl.Listener, { nmae: 'x' })).toThrow(/nmae/);
    expect(() => encodeJson('type.googleapis.com/no.such.Type', {})).toThrow(/no\.such\.Type/);
  });
});
