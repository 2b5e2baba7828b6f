// The proxy's node identity as Istio's agent writes it: the node id, the service cluster and the
// node metadata keys (NAMESPACE, LABELS, SERVICE_ACCOUNT, ...) the control plane reads.
import { SKEIN_VERSION } from '@skein/api-types';

export type ProxyType = 'sidecar' | 'router';
export type InterceptionMode = 'REDIRECT' | 'TPROXY' | 'NONE';

/** A container port as Istio records it in the POD_PORTS metadata (JSON of the pod spec ports). */
export interface PodPort {
  name?: string;
  containerPort: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/** Who the proxy is: the pod (or VM workload) it serves. */
export interface WorkloadIdentity {
  /** `sidecar` (default) or `router` (gateways). */
  proxyType?: ProxyType;
  podName: string;
  namespace: string;
  /** The pod IP: the second field of the node id and the first INSTANCE_IPS entry. */
  podIp: string;
  /** Further instance IPs (dual stack); podIp is always first. */
  extraInstanceIps?: string[];
  /** DNS domain of the node id, default `<namespace>.svc.cluster.local`. */
  dnsDomain?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Default `default`. */
  serviceAccount?: string;
  /** Default `Kubernetes` (Istio's default cluster id). */
  clusterId?: string;
  /** Default `cluster.local`. */
  meshId?: string;
  /** The owning workload (Deployment name, ...); default: the pod name. */
  workloadName?: string;
  /** Default REDIRECT for sidecars, NONE for routers. */
  interceptionMode?: InterceptionMode;
  podPorts?: PodPort[];
  appContainers?: string[];
  /** Default SKEIN_VERSION. */
  istioVersion?: string;
  /** Node locality (region/zone/subzone); an empty one is written when absent. */
  locality?: { region?: string; zone?: string; subZone?: string };
  /** Extra metadata keys (ISTIO_META_* equivalents), merged last; never overrides the keys above. */
  extraMetadata?: Record<string, string>;
}

/** Istio's canonical app name: the first of these labels present. */
export function canonicalName(labels: Record<string, string>, fallback: string): string {
  return (
    labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels['app'] ?? fallback
  );
}

/** Istio's canonical revision: the first of these labels present, else `latest`. */
export function canonicalRevision(labels: Record<string, string>): string {
  return (
    labels['service.istio.io/canonical-revision'] ??
    labels['app.kubernetes.io/version'] ??
    labels['version'] ??
    'latest'
  );
}

/** `sidecar~10.0.0.5~reviews-v1-abc.default~default.svc.cluster.local`. */
export function nodeId(w: WorkloadIdentity): string {
  const type = w.proxyType ?? 'sidecar';
  const domain = w.dnsDomain ?? `${w.namespace}.svc.cluster.local`;
  return `${type}~${w.podIp}~${w.podName}.${w.namespace}~${domain}`;
}

/** The Envoy service cluster: `<canonical app>.<namespace>`. */
export function serviceCluster(w: WorkloadIdentity): string {
  return `${canonicalName(w.labels ?? {}, w.workloadName ?? w.podName)}.${w.namespace}`;
}

/** The node metadata map, keys as Istio's agent writes them. Values are strings except LABELS/ANNOTATIONS. */
export function nodeMetadata(w: WorkloadIdentity): Record<string, unknown> {
  const labels = w.labels ?? {};
  const type = w.proxyType ?? 'sidecar';
  const md: Record<string, unknown> = { ...(w.extraMetadata ?? {}) };
  Object.assign(md, {
    NAME: w.podName,
    NAMESPACE: w.namespace,
    LABELS: sortedRecord(labels),
    SERVICE_ACCOUNT: w.serviceAccount ?? 'default',
    CLUSTER_ID: w.clusterId ?? 'Kubernetes',
    MESH_ID: w.meshId ?? 'cluster.local',
    INSTANCE_IPS: [w.podIp, ...(w.extraInstanceIps ?? [])].join(','),
    WORKLOAD_NAME: w.workloadName ?? w.podName,
    INTERCEPTION_MODE: w.interceptionMode ?? (type === 'router' ? 'NONE' : 'REDIRECT'),
    ISTIO_VERSION: w.istioVersion ?? SKEIN_VERSION,
    APP: canonicalName(labels, w.workloadName ?? w.podName),
    VERSION: canonicalRevision(labels),
  });
  if (w.annotations && Object.keys(w.annotations).length > 0) md['ANNOTATIONS'] = sortedRecord(w.annotations);
  if (w.podPorts && w.podPorts.length > 0) md['POD_PORTS'] = JSON.stringify(w.podPorts);
  if (w.appContainers && w.appContainers.length > 0) md['APP_CONTAINERS'] = w.appContainers.join(',');
  return sortedRecord(md);
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
