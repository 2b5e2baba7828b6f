// The injector: a pod in, the same pod with the sidecar out (pure). Adds the init step and the
// native sidecar before the pod's own init containers, the volumes, the mesh labels
// (`security.istio.io/tlsMode`, `service.istio.io/canonical-name` / `-revision`), rewrites the app
// probes to the agent, points Prometheus at the merged metrics on 15020, and records what it did
// in `sidecar.istio.io/status`.
import { INIT_CONTAINER, PROXY_CONTAINER, STATUS_ANNOTATION } from './injection-policy.js';
import { PORTS, type InjectorConfig } from './injector-config.js';
import type { Pod } from './pod-types.js';
import { rewriteProbes, type AppProbers } from './probe-rewrite.js';
import { PROXY_CONFIG_ANNOTATION, effectiveProxyConfig } from './proxy-config.js';
import { checkUserMounts, userVolumeMounts, userVolumes } from './sidecar-annotations.js';
import { VOLUMES, initContainer, proxyContainer, sidecarVolumes } from './sidecar-template.js';
import { interceptionMode, iptablesArgs } from './traffic-annotations.js';

export interface InjectContext {
  /** The owning workload (Deployment, Job...); derived from owner references when absent. */
  readonly workloadName?: string | undefined;
}

/** The workload a pod belongs to, as Istio names it: a Deployment's pods by the Deployment. */
export function workloadNameOf(pod: Pod): string {
  const meta = pod.metadata ?? {};
  const owner = meta.ownerReferences?.find((o) => o.controller) ?? meta.ownerReferences?.[0];
  if (owner) {
    const hash = meta.labels?.['pod-template-hash'];
    if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`))
      return owner.name.slice(0, -hash.length - 1);
    return owner.name;
  }
  return meta.name || (meta.generateName ?? '').replace(/-$/, '') || 'unknown';
}

function firstOf(labels: Readonly<Record<string, string>>, keys: readonly string[]): string | undefined {
  for (const k of keys) if (labels[k]) return labels[k];
  return undefined;
}

/** Throws (with the annotation and the reason) when the pod's annotations are malformed. */
export function injectPod(pod: Pod, config: InjectorConfig, ctx: InjectContext = {}): Pod {
  const meta = pod.metadata ?? {};
  const annotations = { ...meta.annotations };
  const workloadName = ctx.workloadName ?? workloadNameOf(pod);
  const labels: Record<string, string> = { ...meta.labels };
  labels['security.istio.io/tlsMode'] = 'istio';
  labels['service.istio.io/canonical-name'] =
    firstOf(labels, ['service.istio.io/canonical-name', 'app.kubernetes.io/name', 'app']) ?? workloadName;
  labels['service.istio.io/canonical-revision'] =
    firstOf(labels, ['service.istio.io/canonical-revision', 'app.kubernetes.io/version', 'version']) ??
    'latest';

  const proxyConfig = effectiveProxyConfig(config.defaultProxyConfig, annotations[PROXY_CONFIG_ANNOTATION]);
  const mode = interceptionMode(annotations);
  const ipt =
    mode === 'NONE'
      ? undefined
      : iptablesArgs(annotations, {
          dnsCapture: proxyConfig.proxyMetadata['ISTIO_META_DNS_CAPTURE'] === 'true',
        });

  const rewrite = annotations['sidecar.istio.io/rewriteAppHTTPProbers'] !== 'false';
  const { containers, probers } = rewrite
    ? rewriteProbes(pod.spec.containers)
    : { containers: pod.spec.containers, probers: {} as AppProbers };

  // Prometheus scrapes the agent's merged metrics; the app's own stay reachable through it.
  let prometheusAnnotations: Record<string, string> | undefined;
  if (
    annotations['prometheus.io/scrape'] !== 'false' &&
    annotations['sidecar.istio.io/mergeMetrics'] !== 'false'
  ) {
    prometheusAnnotations = {};
    for (const k of ['scrape', 'path', 'port'])
      if (annotations[`prometheus.io/${k}`] !== undefined)
        prometheusAnnotations[k] = annotations[`prometheus.io/${k}`] ?? '';
    annotations['prometheus.io/scrape'] = 'true';
    annotations['prometheus.io/port'] = String(PORTS.agentStatus);
    annotations['prometheus.io/path'] = '/stats/prometheus';
  }

  const proxy = proxyContainer(config, {
    workloadName,
    labels,
    annotations,
    appContainers: pod.spec.containers,
    iptablesArgs: ipt,
    interceptionMode: mode,
    probers,
    proxyConfig,
    prometheusAnnotations,
  });
  const added = ipt ? [initContainer(config, ipt, annotations), proxy] : [proxy];
  const volumeNames = Object.values(VOLUMES);
  const extraVolumes = userVolumes(annotations);
  const volumes = [
    ...(pod.spec.volumes ?? []).filter((v) => !volumeNames.includes(v['name'] as never)),
    ...sidecarVolumes(config),
  ];
  for (const v of extraVolumes)
    if (volumes.some((x) => x['name'] === v['name']))
      throw new Error(
        `annotation sidecar.istio.io/userVolume: ${String(v['name'])}: the pod already has this volume`,
      );
  volumes.push(...extraVolumes);
  checkUserMounts(
    userVolumeMounts(annotations),
    volumes.map((v) => String(v['name'])),
  );
  annotations[STATUS_ANNOTATION] = JSON.stringify({
    initContainers: ipt ? [INIT_CONTAINER, PROXY_CONTAINER] : [PROXY_CONTAINER],
    containers: [],
    volumes: [...volumeNames, ...extraVolumes.map((v) => String(v['name']))],
    imagePullSecrets: null,
    revision: config.revision,
  });
  const first = pod.spec.containers[0]?.name;
  if (first && annotations['kubectl.kubernetes.io/default-container'] === undefined)
    annotations['kubectl.kubernetes.io/default-container'] = first;
  if (first && annotations['kubectl.kubernetes.io/default-logs-container'] === undefined)
    annotations['kubectl.kubernetes.io/default-logs-container'] = first;

  return {
    ...pod,
    metadata: { ...meta, labels, annotations },
    spec: {
      ...pod.spec,
      initContainers: [...added, ...(pod.spec.initContainers ?? [])],
      containers,
      volumes,
    },
  };
}
