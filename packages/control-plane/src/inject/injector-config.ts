// What the sidecar template needs to know about the installation (images, skeind's address,
// identity settings, resource defaults, the policy), with the defaults skeind and skeinctl share.
import { SKEIN_VERSION } from '@skein/api-types';
import type { LabelSelector } from '../model/namespaces.js';

export interface InjectorConfig {
  /** Image of the init step and the sidecar (skein-agent + skein-proxy). */
  readonly proxyImage: string;
  /** skeind's TLS address (CA and xDS), `host:port`. */
  readonly discoveryAddress: string;
  /** `enabled`: inject unless something says "disabled"; `disabled`: only on an explicit "true". */
  readonly policy: 'enabled' | 'disabled';
  readonly trustDomain: string;
  readonly clusterId: string;
  readonly meshId: string;
  /** Token audience the CA checks (`istio-ca`). */
  readonly tokenAudience: string;
  /** Sidecar resource requests / limits when the pod's annotations set none. */
  readonly resources: {
    readonly requests: Readonly<Record<string, string>>;
    readonly limits: Readonly<Record<string, string>>;
  };
  /** The mesh config's `defaultConfig` (ProxyConfig), under the pod's `proxy.istio.io/config`. */
  readonly defaultProxyConfig: Readonly<Record<string, unknown>>;
  /** Pods these select are not injected unless they say `sidecar.istio.io/inject: "true"`. */
  readonly neverInjectSelector: readonly LabelSelector[];
  /** Pods these select are injected (policy disabled too) unless they say "false". */
  readonly alwaysInjectSelector: readonly LabelSelector[];
  /** The `istio.io/rev` this injector serves. */
  readonly revision: string;
  /** Namespaces never injected. */
  readonly ignoredNamespaces: readonly string[];
}

export const DEFAULT_INJECTOR_CONFIG: InjectorConfig = {
  proxyImage: `skein/proxy:${SKEIN_VERSION}`,
  discoveryAddress: 'skeind.skein-system.svc:15012',
  policy: 'enabled',
  trustDomain: 'cluster.local',
  clusterId: 'Kubernetes',
  meshId: 'cluster.local',
  tokenAudience: 'istio-ca',
  // Istio's default sidecar requests; no limits unless annotated.
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: {} },
  defaultProxyConfig: {},
  neverInjectSelector: [],
  alwaysInjectSelector: [],
  revision: 'default',
  ignoredNamespaces: ['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'],
};

/** Ports of the sidecar: the status/probe port, readiness, Prometheus, captures. */
export const PORTS = {
  outboundCapture: 15001,
  inboundCapture: 15006,
  agentStatus: 15020,
  readiness: 15021,
  prometheus: 15090,
} as const;

export const PROXY_UID = 1337;
