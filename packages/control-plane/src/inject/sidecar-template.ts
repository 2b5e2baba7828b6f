// The sidecar the injector adds — the template the mesh e2e suite proved by hand: the iptables
// init step (root with NET_ADMIN + NET_RAW only), skein-agent + skein-proxy as a Kubernetes native
// sidecar (an init container with `restartPolicy: Always` whose startup probe holds the app until
// the proxy has its configuration), the projected service-account token (audience istio-ca) and
// the mesh root from ConfigMap istio-ca-root-cert, 15012 for certificates and xDS.
import { INIT_CONTAINER, PROXY_CONTAINER } from './injection-policy.js';
import { PORTS, PROXY_UID, type InjectorConfig } from './injector-config.js';
import type { EffectiveProxyConfig } from './proxy-config.js';
import { PROXY_IMAGE, readinessSettings, userVolumeMounts } from './sidecar-annotations.js';
import type { Container, Json } from './pod-types.js';
import type { InterceptionMode } from './traffic-annotations.js';

export const VOLUMES = { config: 'istio-envoy', root: 'istiod-ca-cert', token: 'istio-token' } as const;
const CONFIG_DIR = '/etc/skein/proxy';

export interface SidecarInputs {
  readonly workloadName: string;
  /** The pod's labels after injection (tlsMode, canonical name/revision included). */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly appContainers: readonly Container[];
  readonly iptablesArgs: readonly string[] | undefined;
  readonly probers: Readonly<Record<string, unknown>>;
  readonly proxyConfig: EffectiveProxyConfig;
  /** How traffic reaches the proxy (`sidecar.istio.io/interceptionMode`). */
  readonly interceptionMode: InterceptionMode;
  /** Original `prometheus.io/*` annotations when metrics are merged on 15020. */
  readonly prometheusAnnotations: Readonly<Record<string, string>> | undefined;
}

const fieldRef = (name: string, fieldPath: string): Json => ({
  name,
  valueFrom: { fieldRef: { fieldPath } },
});

function resources(c: InjectorConfig, a: Readonly<Record<string, string>>): Json {
  const requests: Record<string, string> = { ...c.resources.requests };
  const limits: Record<string, string> = { ...c.resources.limits };
  const set = (into: Record<string, string>, key: string, annotation: string): void => {
    const v = a[`sidecar.istio.io/${annotation}`];
    if (v) into[key] = v;
  };
  set(requests, 'cpu', 'proxyCPU');
  set(requests, 'memory', 'proxyMemory');
  set(limits, 'cpu', 'proxyCPULimit');
  set(limits, 'memory', 'proxyMemoryLimit');
  return {
    ...(Object.keys(requests).length ? { requests } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
  };
}

/** The sidecar image: `sidecar.istio.io/proxyImage`, else the configured one (init step too, as Istio). */
export const proxyImage = (c: InjectorConfig, a: Readonly<Record<string, string>>): string =>
  a[PROXY_IMAGE] || c.proxyImage;

export function initContainer(
  c: InjectorConfig,
  args: readonly string[],
  annotations: Readonly<Record<string, string>> = {},
): Container {
  return {
    name: INIT_CONTAINER,
    image: proxyImage(c, annotations),
    command: ['/app/bin/skein-agent'],
    args: ['iptables', ...args],
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
    },
  };
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'];

/** `sidecar.istio.io/logLevel` as skein-proxy's `--log-level`; an unknown level refuses the pod. */
function logLevelArgs(a: Readonly<Record<string, string>>): string[] {
  const level = a['sidecar.istio.io/logLevel'];
  if (level === undefined || level === '') return [];
  const l = level.toLowerCase() === 'warn' ? 'warning' : level.toLowerCase();
  if (!LOG_LEVELS.includes(l))
    throw new Error(
      `annotation sidecar.istio.io/logLevel: want one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`,
    );
  return [`--proxy-arg=--log-level=${l}`];
}

/**
 * UID and GID 1337 (the capture rules let both out). TPROXY: the proxy's listeners are transparent
 * (IP_TRANSPARENT), which needs CAP_NET_ADMIN in effect — so, as in Istio, the container runs as
 * root with NET_ADMIN and GID 1337, and the capture rules let it out by its group.
 */
function proxySecurityContext(mode: InterceptionMode): Json {
  if (mode === 'TPROXY')
    return {
      runAsUser: 0,
      runAsGroup: PROXY_UID,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] },
    };
  return {
    runAsUser: PROXY_UID,
    runAsGroup: PROXY_UID,
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
  };
}

export function proxyContainer(c: InjectorConfig, s: SidecarInputs): Container {
  const pc = s.proxyConfig;
  const labels = Object.entries(s.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `--label=${k}=${v}`);
  const ports = s.appContainers.flatMap((x) => x.ports ?? []);
  const env: Json[] = [
    fieldRef('POD_NAME', 'metadata.name'),
    fieldRef('POD_NAMESPACE', 'metadata.namespace'),
    fieldRef('INSTANCE_IP', 'status.podIP'),
    fieldRef('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    { name: 'ISTIO_META_WORKLOAD_NAME', value: s.workloadName },
    { name: 'ISTIO_META_APP_CONTAINERS', value: s.appContainers.map((x) => x.name).join(',') },
    { name: 'ISTIO_META_CLUSTER_ID', value: c.clusterId },
    { name: 'ISTIO_META_MESH_ID', value: c.meshId },
    { name: 'TERMINATION_DRAIN_DURATION', value: pc.terminationDrainDuration },
  ];
  if (ports.length) env.push({ name: 'ISTIO_META_POD_PORTS', value: JSON.stringify(ports) });
  if (Object.keys(s.probers).length)
    env.push({ name: 'ISTIO_KUBE_APP_PROBERS', value: JSON.stringify(s.probers) });
  if (s.prometheusAnnotations && Object.keys(s.prometheusAnnotations).length)
    env.push({ name: 'ISTIO_PROMETHEUS_ANNOTATIONS', value: JSON.stringify(s.prometheusAnnotations) });
  for (const [name, value] of Object.entries(pc.proxyMetadata)) env.push({ name, value });
  const meta = pc.proxyMetadata;
  const ready = (): Json => ({ httpGet: { path: '/healthz/ready', port: PORTS.readiness } });
  const readiness = readinessSettings(s.annotations);
  return {
    name: PROXY_CONTAINER,
    image: proxyImage(c, s.annotations),
    restartPolicy: 'Always',
    args: [
      'proxy',
      `--discovery-address=${c.discoveryAddress}`,
      '--discovery-tls',
      '--xds-relay',
      `--xds-relay-socket=${CONFIG_DIR}/XDS`,
      `--ca-address=${c.discoveryAddress}`,
      '--ca-root-cert=/var/run/secrets/istio/root-cert.pem',
      '--token-file=/var/run/secrets/tokens/istio-token',
      `--sds-socket=${CONFIG_DIR}/sds.sock`,
      `--config-path=${CONFIG_DIR}/envoy-rev.json`,
      `--trust-domain=${c.trustDomain}`,
      ...labels,
      ...(s.interceptionMode !== 'REDIRECT' ? [`--interception-mode=${s.interceptionMode}`] : []),
      ...(meta['EXIT_ON_ZERO_ACTIVE_CONNECTIONS'] === 'true' ? ['--exit-on-zero-active-connections'] : []),
      ...(meta['ISTIO_META_DNS_CAPTURE'] === 'true' ? ['--dns-capture'] : []),
      ...logLevelArgs(s.annotations),
      ...(pc.concurrency !== undefined ? [`--proxy-arg=--concurrency=${pc.concurrency}`] : []),
    ],
    env,
    ports: [
      { name: 'http-envoy-prom', containerPort: PORTS.prometheus, protocol: 'TCP' },
      { name: 'status-port', containerPort: PORTS.readiness, protocol: 'TCP' },
    ],
    // With a native sidecar the startup probe is what holds the app until the proxy is ready.
    ...(pc.holdApplicationUntilProxyStarts
      ? { startupProbe: { ...ready(), periodSeconds: 1, failureThreshold: 600 } }
      : {}),
    readinessProbe: { ...ready(), ...readiness },
    resources: resources(c, s.annotations),
    securityContext: proxySecurityContext(s.interceptionMode),
    volumeMounts: [
      { name: VOLUMES.config, mountPath: CONFIG_DIR },
      { name: VOLUMES.root, mountPath: '/var/run/secrets/istio' },
      { name: VOLUMES.token, mountPath: '/var/run/secrets/tokens' },
      ...userVolumeMounts(s.annotations),
    ],
  };
}

export function sidecarVolumes(c: InjectorConfig): Json[] {
  return [
    { name: VOLUMES.config, emptyDir: { medium: 'Memory' } },
    { name: VOLUMES.root, configMap: { name: 'istio-ca-root-cert' } },
    {
      name: VOLUMES.token,
      projected: {
        sources: [
          {
            serviceAccountToken: { audience: c.tokenAudience, expirationSeconds: 43200, path: 'istio-token' },
          },
        ],
      },
    },
  ];
}
