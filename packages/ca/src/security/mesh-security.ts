// The mesh security contributor skeind plugs into its translator (its SecurityContributor hooks):
// PeerAuthentication → inbound filter chains, ISTIO_MUTUAL / auto mTLS upstream transport sockets,
// AuthorizationPolicy → RBAC filters, RequestAuthentication → jwt_authn. Typed structurally, so
// @skein/ca does not depend on the control plane. Pure.
import type { AuthorizationPolicy, PeerAuthentication, RequestAuthentication } from '@skein/api-types';
import { translateAuthorizationPolicies, type SecurityProblem } from './authz/authorization-policy.js';
import { translateRequestAuthentication } from './jwt-authn.js';
import { modeForPort, resolveInboundMtls, type MtlsMode } from './mtls-mode.js';
import {
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
 * auto mTLS when every endpoint carries `security.istio.io/tlsMode: istio` and none has mTLS
 * DISABLEd on the port. Expected server identities: the endpoints' service accounts plus the
 * service's subjectAltNames (or the DestinationRule's).
 */
export function meshSecurity(): MeshSecurity {
  const authz = (ctx: SecurityContextView) =>
    translateAuthorizationPolicies(objects<AuthorizationPolicy>(ctx, 'AuthorizationPolicy'), {
      trustDomain: ctx.snapshot.mesh.trustDomain,
      rootNamespace: ctx.snapshot.mesh.rootNamespace,
      workload: { namespace: ctx.proxy.namespace, labels: { ...ctx.proxy.labels } },
    });
  return {
    upstreamTransportSocket(ctx, input) {
      const { service, port } = input;
      const mode = input.tls?.mode;
      if (mode && mode !== 'ISTIO_MUTUAL') return undefined; // SIMPLE / MUTUAL / DISABLE: DestinationRule's own
      if (!mode) {
        const ws = service.workloads;
        const meshEndpoints = ws.length > 0 && ws.every((w) => w.labels[TLS_MODE_LABEL] === 'istio');
        if (!meshEndpoints || service.location === 'MESH_EXTERNAL') return undefined;
        if (ws.some((w) => workloadMode(ctx, w, port.number) === 'DISABLE')) return undefined;
      }
      const td = ctx.snapshot.mesh.trustDomain;
      const sans = input.tls?.subjectAltNames?.length
        ? [...input.tls.subjectAltNames]
        : [
            ...expectedIdentities(
              td,
              service.workloads.map((w) => ({ namespace: w.namespace, serviceAccount: w.serviceAccount })),
            ),
            ...service.subjectAltNames,
          ];
      const ctxJson = istioMutualUpstreamTlsContext({
        sni: input.tls?.sni ?? meshSni(port.number, input.subset, service.hostname),
        subjectAltNames: [...new Set(sans)].sort(),
        alpn: meshUpstreamAlpn(upstreamProtocol(port.protocol)),
      });
      return tlsTransportSocket(ctxJson, UPSTREAM_TLS_TYPE);
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
