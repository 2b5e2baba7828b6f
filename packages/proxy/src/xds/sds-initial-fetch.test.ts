// The initial_fetch_timeout of each SDS secret reference, found anywhere inside xDS resources.
import { describe, expect, it } from 'vitest';
import { sdsFetchTimeouts } from './sds-initial-fetch.js';

const sds = (initialFetchTimeout?: string): Record<string, unknown> => ({
  apiConfigSource: { apiType: 'GRPC', grpcServices: [{ envoyGrpc: { clusterName: 'sds-grpc' } }] },
  ...(initialFetchTimeout !== undefined ? { initialFetchTimeout } : {}),
});

describe('sdsFetchTimeouts', () => {
  it('reads each referenced secret’s timeout: 15 s by default, 0s forever, the first reference wins', () => {
    const listener = {
      filterChains: [
        {
          transportSocket: {
            typedConfig: {
              commonTlsContext: {
                tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: sds('0.5s') }],
                combinedValidationContext: {
                  validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: sds('0s') },
                },
              },
            },
          },
        },
      ],
    };
    const cluster = {
      transportSocket: {
        typedConfig: {
          commonTlsContext: {
            tlsCertificateSdsSecretConfigs: [
              { name: 'default', sdsConfig: sds('9s') },
              { name: 'other', sdsConfig: sds() },
            ],
          },
        },
      },
    };
    expect([...sdsFetchTimeouts([listener, cluster])]).toEqual([
      ['default', 500],
      ['ROOTCA', 0],
      ['other', 15_000],
    ]);
  });

  it('ignores references without a name or an sds_config (static secrets)', () => {
    const l = {
      commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'static' }, { sdsConfig: sds() }] },
    };
    expect(sdsFetchTimeouts([l]).size).toBe(0);
  });
});
