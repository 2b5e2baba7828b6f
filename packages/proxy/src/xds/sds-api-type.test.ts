// The SDS protocol per SDS cluster comes from the sds_config api_type of the secret references.
import { describe, expect, it } from 'vitest';
import { sdsDeltaClusters } from './sds-api-type.js';

const ref = (cluster: string, apiType: string) => ({
  name: 'default',
  sdsConfig: { apiConfigSource: { apiType, grpcServices: [{ envoyGrpc: { clusterName: cluster } }] } },
});

describe('sdsDeltaClusters', () => {
  it('marks a cluster delta when a reference to it asks for DELTA_GRPC, anywhere inside', () => {
    const listener = {
      filterChains: [
        {
          transportSocket: {
            typedConfig: {
              commonTlsContext: {
                tlsCertificateSdsSecretConfigs: [ref('sds-a', 'DELTA_GRPC')],
                validationContextSdsSecretConfig: ref('sds-b', 'GRPC'),
              },
            },
          },
        },
      ],
    };
    const m = sdsDeltaClusters([listener, { nested: [ref('sds-b', 'GRPC')] }]);
    expect(m.get('sds-a')).toBe(true);
    expect(m.get('sds-b')).toBe(false);
    expect(m.has('other')).toBe(false);
  });
});
