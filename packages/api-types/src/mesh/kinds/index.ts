// The table of every mesh kind: API group, versions, names, and the schema of its spec.
import type { ObjectNode } from '../schema/dsl.js';
import { DestinationRuleSpec } from './destination-rule.js';
import { GatewaySpec } from './gateway.js';
import { AuthorizationPolicySpec, PeerAuthenticationSpec, RequestAuthenticationSpec } from './security.js';
import { ServiceEntrySpec, WorkloadEntrySpec, WorkloadGroupSpec } from './service-entry.js';
import { SidecarSpec } from './sidecar.js';
import { EnvoyFilterSpec, TelemetrySpec } from './telemetry.js';
import { VirtualServiceSpec } from './virtual-service.js';

export interface KindInfo {
  readonly group: string;
  /** Served versions, storage version first. */
  readonly versions: readonly string[];
  readonly kind: string;
  readonly plural: string;
  readonly shortNames: readonly string[];
  readonly spec: ObjectNode;
  /** Accepted by validation but not acted on by Skein (reported as a warning). */
  readonly unsupported?: string;
}

const networking = ['v1', 'v1beta1', 'v1alpha3'] as const;
const security = ['v1', 'v1beta1'] as const;
const telemetry = ['v1', 'v1alpha1'] as const;

export const meshKinds: readonly KindInfo[] = [
  {
    group: 'networking.istio.io',
    versions: networking,
    kind: 'VirtualService',
    plural: 'virtualservices',
    shortNames: ['vs'],
    spec: VirtualServiceSpec,
  },
  {
    group: 'networking.istio.io',
    versions: networking,
    kind: 'DestinationRule',
    plural: 'destinationrules',
    shortNames: ['dr'],
    spec: DestinationRuleSpec,
  },
  {
    group: 'networking.istio.io',
    versions: networking,
    kind: 'Gateway',
    plural: 'gateways',
    shortNames: ['gw'],
    spec: GatewaySpec,
  },
  {
    group: 'networking.istio.io',
    versions: networking,
    kind: 'ServiceEntry',
    plural: 'serviceentries',
    shortNames: ['se'],
    spec: ServiceEntrySpec,
  },
  {
    group: 'networking.istio.io',
    versions: networking,
    kind: 'Sidecar',
    plural: 'sidecars',
    shortNames: [],
    spec: SidecarSpec,
  },
  {
    group: 'networking.istio.io',
    versions: networking,
    kind: 'WorkloadEntry',
    plural: 'workloadentries',
    shortNames: ['we'],
    spec: WorkloadEntrySpec,
  },
  {
    group: 'networking.istio.io',
    versions: networking,
    kind: 'WorkloadGroup',
    plural: 'workloadgroups',
    shortNames: ['wg'],
    spec: WorkloadGroupSpec,
  },
  {
    group: 'networking.istio.io',
    versions: ['v1alpha3'],
    kind: 'EnvoyFilter',
    plural: 'envoyfilters',
    shortNames: [],
    spec: EnvoyFilterSpec,
    unsupported: 'EnvoyFilter patches Envoy configuration directly; Skein accepts it but does not apply it',
  },
  {
    group: 'security.istio.io',
    versions: security,
    kind: 'PeerAuthentication',
    plural: 'peerauthentications',
    shortNames: ['pa'],
    spec: PeerAuthenticationSpec,
  },
  {
    group: 'security.istio.io',
    versions: security,
    kind: 'AuthorizationPolicy',
    plural: 'authorizationpolicies',
    shortNames: ['ap'],
    spec: AuthorizationPolicySpec,
  },
  {
    group: 'security.istio.io',
    versions: security,
    kind: 'RequestAuthentication',
    plural: 'requestauthentications',
    shortNames: ['ra'],
    spec: RequestAuthenticationSpec,
  },
  {
    group: 'telemetry.istio.io',
    versions: telemetry,
    kind: 'Telemetry',
    plural: 'telemetries',
    shortNames: ['telemetry'],
    spec: TelemetrySpec,
  },
];

/** The kind served under an apiVersion ("group/version") and kind name, if any. */
export function findKind(apiVersion: string, kind: string): KindInfo | undefined {
  const [group, version] = apiVersion.split('/');
  return meshKinds.find(
    (k) => k.kind === kind && k.group === group && version !== undefined && k.versions.includes(version),
  );
}
