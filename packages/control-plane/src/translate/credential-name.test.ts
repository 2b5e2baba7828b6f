// DestinationRule `credentialName`: the upstream TLS context names Istio's SDS secrets
// (`kubernetes://<name>` for the key pair, `kubernetes://<name>-cacert` for the CA).
import { encodeJson, TypeUrl } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { proxy, snapshotFromYaml } from '../../test/support/translate.js';
import { outboundClusters } from './clusters.js';
import { translateContext } from './context.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const yaml = (mode: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: bank, namespace: default }
spec:
  hosts: [api.bank.example]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{ number: 443, name: tls }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: bank, namespace: default }
spec:
  host: api.bank.example
  trafficPolicy:
    tls: { mode: ${mode}, credentialName: bank-client, subjectAltNames: [api.bank.example] }
`;

const tlsOf = (mode: string): Json => {
  const ctx = translateContext(snapshotFromYaml(yaml(mode)), proxy({ ip: '10.0.0.9' }));
  const c = outboundClusters(ctx).find((x) => x.name === 'outbound|443||api.bank.example');
  encodeJson(TypeUrl.Cluster, c ?? {});
  return (c?.transportSocket?.typedConfig ?? {}) as Json;
};

describe('DestinationRule credentialName', () => {
  it('MUTUAL: client key pair and CA from SDS secrets named as Istio names them', () => {
    const tls = tlsOf('MUTUAL');
    expect(tls['sni']).toBe('api.bank.example');
    expect(tls['commonTlsContext'].tlsCertificateSdsSecretConfigs).toEqual([
      { name: 'kubernetes://bank-client', sdsConfig: { ads: {}, resourceApiVersion: 'V3' } },
    ]);
    const v = tls['commonTlsContext'].combinedValidationContext;
    expect(v.validationContextSdsSecretConfig.name).toBe('kubernetes://bank-client-cacert');
    expect(v.defaultValidationContext.matchTypedSubjectAltNames[0].matcher.exact).toBe('api.bank.example');
  });

  it('SIMPLE: only the CA comes from the secret', () => {
    const tls = tlsOf('SIMPLE');
    expect(tls['commonTlsContext'].tlsCertificateSdsSecretConfigs).toBeUndefined();
    expect(tls['commonTlsContext'].combinedValidationContext.validationContextSdsSecretConfig.name).toBe(
      'kubernetes://bank-client-cacert',
    );
  });
});
