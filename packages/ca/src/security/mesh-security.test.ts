// The contributor skeind plugs in, fed a context shaped like skeind's TranslateContext.
import { describe, expect, it } from 'vitest';
import {
  meshSecurity,
  TLS_MODE_LABEL,
  type SecurityContextView,
  type UpstreamView,
} from './mesh-security.js';

const obj = (kind: string, ns: string, name: string, spec: unknown) => ({
  apiVersion: 'security.istio.io/v1',
  kind,
  metadata: { name, namespace: ns },
  spec,
});

function ctx(objects: ReturnType<typeof obj>[]): SecurityContextView {
  const byKind = new Map<string, unknown[]>();
  for (const o of objects) byKind.set(o.kind, [...(byKind.get(o.kind) ?? []), o]);
  return {
    snapshot: { mesh: { trustDomain: 'cluster.local', rootNamespace: 'istio-system' }, byKind },
    proxy: { namespace: 'shop', labels: { app: 'web' } },
  };
}

const upstream = (labels: Record<string, string>, tls?: UpstreamView['tls']): UpstreamView => ({
  service: {
    hostname: 'db.shop.svc.cluster.local',
    location: 'MESH_INTERNAL',
    subjectAltNames: [],
    workloads: [
      { namespace: 'shop', serviceAccount: 'db', labels },
      { namespace: 'shop', serviceAccount: 'db-replica', labels },
    ],
  },
  port: { number: 5432 },
  subset: '',
  tls,
});

describe('meshSecurity', () => {
  const sec = meshSecurity();

  it('originates ISTIO_MUTUAL to injected endpoints with their identities (auto mTLS)', () => {
    const ts = sec.upstreamTransportSocket(ctx([]), upstream({ [TLS_MODE_LABEL]: 'istio' })) as unknown as {
      typedConfig: {
        sni: string;
        commonTlsContext: { combinedValidationContext: { defaultValidationContext: unknown } };
      };
    };
    expect(ts.typedConfig.sni).toBe('outbound_.5432_._.db.shop.svc.cluster.local');
    expect(ts.typedConfig.commonTlsContext.combinedValidationContext.defaultValidationContext).toEqual({
      matchTypedSubjectAltNames: [
        { sanType: 'URI', matcher: { exact: 'spiffe://cluster.local/ns/shop/sa/db' } },
        { sanType: 'URI', matcher: { exact: 'spiffe://cluster.local/ns/shop/sa/db-replica' } },
      ],
    });
  });

  it("offers Istio's ALPN for what the client knows the port carries", () => {
    const alpn = (protocol: string | undefined): unknown =>
      (
        sec.upstreamTransportSocket(ctx([]), {
          ...upstream({ [TLS_MODE_LABEL]: 'istio' }),
          port: { number: 5432, protocol },
        }) as unknown as { typedConfig: { commonTlsContext: { alpnProtocols: string[] } } }
      ).typedConfig.commonTlsContext.alpnProtocols;
    expect(alpn('HTTP')).toEqual(['istio-http/1.1', 'istio', 'http/1.1']);
    expect(alpn('GRPC')).toEqual(['istio-h2', 'istio', 'h2']);
    expect(alpn('HTTP2')).toEqual(['istio-h2', 'istio', 'h2']);
    expect(alpn('MONGO')).toEqual(['istio-peer-exchange', 'istio']);
    expect(alpn('UNKNOWN')).toEqual(['istio-peer-exchange', 'istio', 'h2', 'http/1.1']);
  });

  it('gives a service only partly in the mesh per-endpoint sockets (tlsMode-istio / tlsMode-disabled)', () => {
    const half: UpstreamView = {
      ...upstream({}),
      service: {
        ...upstream({}).service,
        workloads: [
          { namespace: 'shop', serviceAccount: 'db', labels: { [TLS_MODE_LABEL]: 'istio' } },
          { namespace: 'shop', serviceAccount: 'legacy-db', labels: {} },
        ],
      },
    };
    expect(sec.upstreamTransportSocket(ctx([]), half)).toBeUndefined();
    const m = sec.upstreamTransportSocketMatches(ctx([]), half) as unknown as {
      name: string;
      match: Record<string, string>;
      transportSocket: { typedConfig: Record<string, unknown> };
    }[];
    expect(m.map((x) => [x.name, x.match])).toEqual([
      ['tlsMode-istio', { tlsMode: 'istio' }],
      ['tlsMode-disabled', {}],
    ]);
    // Only the meshed workloads' identities are expected from the mTLS endpoints.
    expect(JSON.stringify(m[0]?.transportSocket)).toContain('spiffe://cluster.local/ns/shop/sa/db"');
    expect(JSON.stringify(m[0]?.transportSocket)).not.toContain('legacy-db');
    expect(m[1]?.transportSocket.typedConfig['@type']).toContain('RawBuffer');
    // All meshed, none meshed, or a DestinationRule TLS mode: no per-endpoint sockets.
    expect(
      sec.upstreamTransportSocketMatches(ctx([]), upstream({ [TLS_MODE_LABEL]: 'istio' })),
    ).toBeUndefined();
    expect(sec.upstreamTransportSocketMatches(ctx([]), upstream({}))).toBeUndefined();
    expect(
      sec.upstreamTransportSocketMatches(ctx([]), { ...half, tls: { mode: 'ISTIO_MUTUAL' } }),
    ).toBeUndefined();
  });

  it('stays plaintext to non-mesh endpoints, to DISABLEd ones, and defers to SIMPLE/MUTUAL', () => {
    expect(sec.upstreamTransportSocket(ctx([]), upstream({}))).toBeUndefined();
    const disabled = ctx([obj('PeerAuthentication', 'shop', 'off', { mtls: { mode: 'DISABLE' } })]);
    expect(sec.upstreamTransportSocket(disabled, upstream({ [TLS_MODE_LABEL]: 'istio' }))).toBeUndefined();
    expect(
      sec.upstreamTransportSocket(ctx([]), upstream({ [TLS_MODE_LABEL]: 'istio' }, { mode: 'SIMPLE' })),
    ).toBeUndefined();
    expect(sec.upstreamTransportSocket(ctx([]), upstream({}, { mode: 'ISTIO_MUTUAL' }))).toBeDefined();
  });

  it('turns the plaintext inbound chain into the variants of the port mode', () => {
    const plain = {
      name: 'inbound|8080||',
      filterChainMatch: { destinationPort: 8080 },
      filters: [{ name: 'x' }],
    };
    const strict = ctx([obj('PeerAuthentication', 'istio-system', 'mesh', { mtls: { mode: 'STRICT' } })]);
    const chains = sec.inboundFilterChains(strict, { port: 8080, protocol: 'HTTP' }, plain);
    expect(chains).toHaveLength(1);
    expect(chains[0]).toMatchObject({
      name: 'inbound|8080||-mtls',
      filterChainMatch: { destinationPort: 8080, transportProtocol: 'tls' },
    });
    const permissive = sec.inboundFilterChains(ctx([]), { port: 8080, protocol: 'HTTP' }, plain);
    expect(permissive.map((c) => c.filterChainMatch)).toEqual([
      {
        destinationPort: 8080,
        transportProtocol: 'tls',
        applicationProtocols: [
          'istio-peer-exchange',
          'istio',
          'istio-http/1.0',
          'istio-http/1.1',
          'istio-h2',
        ],
      },
      { destinationPort: 8080 },
    ]);
  });

  it('puts jwt_authn before RBAC and reports CUSTOM', () => {
    const c = ctx([
      obj('RequestAuthentication', 'shop', 'jwt', { jwtRules: [{ issuer: 'i', jwks: '{"keys":[]}' }] }),
      obj('AuthorizationPolicy', 'shop', 'allow', { rules: [{}] }),
      obj('AuthorizationPolicy', 'shop', 'ext', { action: 'CUSTOM', provider: { name: 'x' }, rules: [{}] }),
    ]);
    expect(sec.inboundHttpFilters(c, { port: 8080, protocol: 'HTTP' }).map((f) => f.name)).toEqual([
      'envoy.filters.http.jwt_authn',
      'envoy.filters.http.rbac',
    ]);
    expect(sec.inboundNetworkFilters(c, { port: 9000, protocol: 'TCP' }).map((f) => f.name)).toEqual([
      'envoy.filters.network.rbac',
    ]);
    expect(sec.problems(c)).toHaveLength(1);
  });
});
