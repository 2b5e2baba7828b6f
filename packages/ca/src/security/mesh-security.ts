// The mesh security contributor skeind plugs into its translator (its SecurityContributor hooks):
// PeerAuthentication → inbound filter chains, ISTIO_MUTUAL / auto mTLS upstream transport sockets,
// AuthorizationPolicy → RBAC filters, RequestAuthentication → jwt_authn. Typed structurally, so
// @skein/ca does not depend on the control plane. Pure.
import type { AuthorizationPolicy, PeerAuthentication, RequestAuthentication } from '@skein/api-types';
import { translateAuthorizationPolicies, type SecurityProblem } from './authz/authorization-policy.js';
import { translateRequestAuthentication } from './jwt-authn.js';
import { modeForPort, resolveInboundMtls, type MtlsMode } from './mtls-mode.js';
import {
  autoMtlsTransportSocketMatches,
  expectedIdentities,
  inboundChainVariants,
  istioMutualUpstreamTlsContext,
  meshSni,
  meshUpstreamAlpn,
  tlsTransportSocket,
  type MeshUpstreamProtocol,
  UPSTREAM_TLS_TYPE,
} from './tls-context.js';

/** What the contributor reads from skeind's TranslateContext. */
export interface SecurityContextView {
  readonly snapshot: {
    readonly mesh: { readonly trustDomain: string; readonly rootNamespace: string };
    readonly byKind: ReadonlyMap<string, readonly unknown[]>;
  };
  readonly proxy: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
}

export interface UpstreamView {
  readonly service: {
    readonly hostname: string;
    readonly location: string;
    readonly subjectAltNames: readonly string[];
    readonly workloads: readonly {
      readonly namespace: string;
      readonly serviceAccount: string;
      readonly labels: Readonly<Record<string, string>>;
    }[];
  };
  /** `protocol`: skeind's port protocol (HTTP, HTTP2, GRPC, TCP, ..., UNKNOWN for sniffed). */
  readonly port: { readonly number: number; readonly protocol?: string | undefined };
  readonly subset: string;
  readonly tls:
    | {
        readonly mode?: string | undefined;
        readonly subjectAltNames?: readonly string[] | undefined;
        readonly sni?: string | undefined;
      }
    | undefined;
}

export interface InboundPortView {
  readonly port: number;
  readonly protocol: 'HTTP' | 'TCP';
}

type Json = Record<string, unknown>;
export interface FilterChainView {
  name?: string;
  filterChainMatch?: Json;
  filters?: unknown[];
  transportSocket?: unknown;
}

/** Istio's label on injected pods: their endpoints speak mesh mTLS (auto mTLS). */
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

/** What the client side knows of a port's protocol, for the mesh ALPN (see meshUpstreamAlpn). */
export function upstreamProtocol(protocol: string | undefined): MeshUpstreamProtocol {
  switch (protocol) {
    case 'HTTP':
      return 'HTTP';
    case 'HTTP2':
    case 'GRPC':
      return 'HTTP2';
    case 'UNKNOWN':
    case undefined:
      return 'UNKNOWN';
    default:
      return 'TCP';
  }
}

const objects = <T>(ctx: SecurityContextView, kind: string) => (ctx.snapshot.byKind.get(kind) ?? []) as T[];

function workloadMode(
  ctx: SecurityContextView,
  w: { namespace: string; labels: Readonly<Record<string, string>> },
  port: number,
): MtlsMode {
  const m = resolveInboundMtls(
    objects<PeerAuthentication>(ctx, 'PeerAuthentication'),
    { namespace: w.namespace, labels: { ...w.labels } },
    ctx.snapshot.mesh.rootNamespace,
  );
  return modeForPort(m, port);
}

export interface MeshSecurity {
  upstreamTransportSocket(
    ctx: SecurityContextView,
    input: UpstreamView,
  ): { name: string; typedConfig: { '@type': string } } | undefined;
  /** Auto mTLS to a service only partly in the mesh: Istio's `tlsMode-istio` / `tlsMode-disabled` matches. */
  upstreamTransportSocketMatches(
    ctx: SecurityContextView,
    input: UpstreamView,
  ): ReturnType<typeof autoMtlsTransportSocketMatches> | undefined;
  inboundHttpFilters(
    ctx: SecurityContextView,
    port: InboundPortView,
  ): { name: string; typedConfig: { '@type': string } }[];
  inboundNetworkFilters(
    ctx: SecurityContextView,
    port: InboundPortView,
  ): { name: string; typedConfig: { '@type': string } }[];
  inboundFilterChains<C extends FilterChainView>(
    ctx: SecurityContextView,
    port: InboundPortView,
    plaintext: C,
  ): C[];
  /** CUSTOM and unreadable policies for the proxy (log/metric them). */
  problems(ctx: SecurityContextView): SecurityProblem[];
}

/**
 * The contributor. Upstream: DestinationRule ISTIO_MUTUAL always; with no DestinationRule TLS,
 * auto mTLS when every endpoint carries `security.istio.io/tlsMode: istio`, per endpoint
 * (transport_socket_matches) when only some do — in both cases when none has mTLS DISABLEd on the port. Expected server identities: the endpoints' service accounts plus the
 * service's subjectAltNames (or the DestinationRule's).
 */
/**
 * Auto mTLS (no DestinationRule TLS) to a mesh-internal service: `all` its endpoints are injected
 * (`tlsMode: istio`), only `some` are (per-endpoint sockets), or `none` — also when the service is
 * MESH_EXTERNAL or a PeerAuthentication DISABLEs mTLS on the port for any of its workloads.
 */
function autoMtls(ctx: SecurityContextView, input: UpstreamView): 'all' | 'some' | 'none' {
  const ws = input.service.workloads;
  if (input.service.location === 'MESH_EXTERNAL') return 'none';
  const meshed = ws.filter((w) => w.labels[TLS_MODE_LABEL] === 'istio').length;
  if (meshed === 0) return 'none';
  if (ws.some((w) => workloadMode(ctx, w, input.port.number) === 'DISABLE')) return 'none';
  return meshed === ws.length ? 'all' : 'some';
}

/** The ISTIO_MUTUAL context for a cluster whose server identities are those of `workloads`. */
function upstreamContext(
  ctx: SecurityContextView,
  input: UpstreamView,
  workloads: UpstreamView['service']['workloads'],
): ReturnType<typeof istioMutualUpstreamTlsContext> {
  const { service, port } = input;
  const td = ctx.snapshot.mesh.trustDomain;
  const sans = input.tls?.subjectAltNames?.length
    ? [...input.tls.subjectAltNames]
    : [
        ...expectedIdentities(
          td,
          workloads.map((w) => ({ namespace: w.namespace, serviceAccount: w.serviceAccount })),
        ),
        ...service.subjectAltNames,
      ];
  return istioMutualUpstreamTlsContext({
    sni: input.tls?.sni ?? meshSni(port.number, input.subset, service.hostname),
    subjectAltNames: [...new Set(sans)].sort(),
    alpn: meshUpstreamAlpn(upstreamProtocol(port.protocol)),
  });
}

export function meshSecurity(): MeshSecurity {
  const authz = (ctx: SecurityContextView) =>
    translateAuthorizationPolicies(objects<AuthorizationPolicy>(ctx, 'AuthorizationPolicy'), {
      trustDomain: ctx.snapshot.mesh.trustDomain,
      rootNamespace: ctx.snapshot.mesh.rootNamespace,
      workload: { namespace: ctx.proxy.namespace, labels: { ...ctx.proxy.labels } },
    });
  return {
    upstreamTransportSocket(ctx, input) {
      const mode = input.tls?.mode;
      if (mode && mode !== 'ISTIO_MUTUAL') return undefined; // SIMPLE / MUTUAL / DISABLE: DestinationRule's own
      if (!mode && autoMtls(ctx, input) !== 'all') return undefined;
      return tlsTransportSocket(upstreamContext(ctx, input, input.service.workloads), UPSTREAM_TLS_TYPE);
    },
    upstreamTransportSocketMatches(ctx, input) {
      if (input.tls?.mode || autoMtls(ctx, input) !== 'some') return undefined;
      const meshed = input.service.workloads.filter((w) => w.labels[TLS_MODE_LABEL] === 'istio');
      return autoMtlsTransportSocketMatches(upstreamContext(ctx, input, meshed));
    },
    inboundHttpFilters(ctx) {
      const jwt = translateRequestAuthentication(
        objects<RequestAuthentication>(ctx, 'RequestAuthentication'),
        {
          workload: { namespace: ctx.proxy.namespace, labels: { ...ctx.proxy.labels } },
          rootNamespace: ctx.snapshot.mesh.rootNamespace,
        },
      ).filter;
      return [...(jwt ? [jwt] : []), ...authz(ctx).httpFilters];
    },
    inboundNetworkFilters(ctx) {
      return authz(ctx).networkFilters;
    },
    inboundFilterChains(ctx, port, plaintext) {
      const mode = workloadMode(ctx, ctx.proxy, port.port);
      return inboundChainVariants(mode).map((v) => ({
        ...plaintext,
        ...(v.transportSocket
          ? { name: `${plaintext.name ?? ''}-mtls`, transportSocket: v.transportSocket }
          : {}),
        filterChainMatch: { ...(plaintext.filterChainMatch ?? {}), ...v.filterChainMatch },
      }));
    },
    problems(ctx) {
      return authz(ctx).problems;
    },
  };
}
