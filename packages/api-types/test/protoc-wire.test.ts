// Wire compatibility with an independent protobuf implementation: Debian's protoc, over the same
// proto files. Our encoding decodes identically with protoc, and protoc's encoding with ours.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeToJson, encodeJson } from '../src/xds/codec.js';
import { TypeUrl } from '../src/xds/type-urls.js';

const protoRoot = join(import.meta.dirname, '../build/proto');
const files = [
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'istio/v1/auth/ca.proto',
];
const wkt = ['/usr/include', '/usr/local/include'].find((d) =>
  existsSync(join(d, 'google/protobuf/any.proto')),
);

function protoc(mode: 'encode' | 'decode', type: string, input: Buffer | string): Buffer {
  if (!wkt)
    throw new Error('protoc well-known types not found: install protobuf-compiler and libprotobuf-dev');
  return execFileSync('protoc', [`--${mode}=${type}`, `-I${protoRoot}`, `-I${wkt}`, ...files], {
    input,
    maxBuffer: 1 << 24,
  });
}

const DISCOVERY_RESPONSE = 'type.googleapis.com/envoy.service.discovery.v3.DiscoveryResponse';

const response = {
  versionInfo: 'sha256:4f2a',
  typeUrl: TypeUrl.Listener,
  nonce: 'n-17',
  resources: [
    {
      '@type': TypeUrl.Listener,
      name: '0.0.0.0_9080',
      address: { socketAddress: { address: '0.0.0.0', portValue: 9080 } },
      filterChains: [
        {
          filterChainMatch: { destinationPort: 9080, transportProtocol: 'raw_buffer' },
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              typedConfig: {
                '@type':
                  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                statPrefix: 'outbound_0.0.0.0_9080',
                rds: { routeConfigName: '9080', configSource: { ads: {}, resourceApiVersion: 'V3' } },
                streamIdleTimeout: '0s',
              },
            },
          ],
        },
      ],
      trafficDirection: 'OUTBOUND',
    },
  ],
};

describe('wire compatibility with protoc', () => {
  it('protoc decodes what we encode (DiscoveryResponse with Any-packed resources)', () => {
    const ours = Buffer.from(encodeJson(DISCOVERY_RESPONSE, response));
    const text = protoc('decode', 'envoy.service.discovery.v3.DiscoveryResponse', ours).toString();
    expect(text).toContain('version_info: "sha256:4f2a"');
    expect(text).toContain('type_url: "type.googleapis.com/envoy.config.listener.v3.Listener"');
    // protoc re-encodes its reading to the very same bytes, and we read those back unchanged.
    const again = protoc('encode', 'envoy.service.discovery.v3.DiscoveryResponse', text);
    expect(again.equals(ours)).toBe(true);
    expect(decodeToJson(DISCOVERY_RESPONSE, again)).toEqual(response);
  });

  it('protoc reads the resource packed inside', () => {
    const { '@type': _, ...listener } = response.resources[0] as Record<string, unknown>;
    const text = protoc(
      'decode',
      'envoy.config.listener.v3.Listener',
      Buffer.from(encodeJson(TypeUrl.Listener, listener)),
    );
    expect(text.toString()).toContain('port_value: 9080');
    expect(text.toString()).toContain('traffic_direction: OUTBOUND');
  });

  it('we decode what protoc encodes (Cluster from text format)', () => {
    const text = `
      name: "outbound|9080|v2|reviews.default.svc.cluster.local"
      type: EDS
      eds_cluster_config { eds_config { ads {} resource_api_version: V3 } service_name: "outbound|9080|v2|reviews.default.svc.cluster.local" }
      connect_timeout { seconds: 10 }
      lb_policy: LEAST_REQUEST
      circuit_breakers { thresholds { max_connections { value: 100 } max_pending_requests { value: 1 } } }
      outlier_detection { consecutive_5xx { value: 7 } interval { seconds: 300 } base_ejection_time { seconds: 900 } }
    `;
    const bytes = protoc('encode', 'envoy.config.cluster.v3.Cluster', text);
    expect(decodeToJson(TypeUrl.Cluster, bytes)).toEqual({
      name: 'outbound|9080|v2|reviews.default.svc.cluster.local',
      type: 'EDS',
      edsClusterConfig: {
        edsConfig: { ads: {}, resourceApiVersion: 'V3' },
        serviceName: 'outbound|9080|v2|reviews.default.svc.cluster.local',
      },
      connectTimeout: '10s',
      lbPolicy: 'LEAST_REQUEST',
      circuitBreakers: { thresholds: [{ maxConnections: 100, maxPendingRequests: 1 }] },
      outlierDetection: { consecutive5xx: 7, interval: '300s', baseEjectionTime: '900s' },
    });
  });

  it("agrees on Istio's CSR messages", () => {
    const type = 'istio.v1.auth.IstioCertificateRequest';
    const req = {
      csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n',
      validityDuration: '86400',
      metadata: { ClusterID: 'Kubernetes' },
    };
    const ours = Buffer.from(encodeJson(type, req));
    const text = protoc('decode', type, ours).toString();
    expect(text).toContain('validity_duration: 86400');
    expect(decodeToJson(type, protoc('encode', type, text))).toEqual(req);
  });
});
