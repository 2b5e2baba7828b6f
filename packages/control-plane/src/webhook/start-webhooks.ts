// The webhooks as skeind runs them: the HTTPS server on --webhook-addr with the embedded CA's
// serving certificate (rotated with it), the injector configured from the flags and the live mesh
// config, and — with Kubernetes — the caBundle of the webhook configurations kept patched.
import { KubeClient, resolveKubeConnection } from '@skein/ca';
import { DEFAULT_INJECTOR_CONFIG, type InjectorConfig } from '../inject/injector-config.js';
import type { Logger } from '../log.js';
import type { MeshConfig } from '../model/mesh-config.js';
import type { NamespaceLabels } from '../model/namespaces.js';
import type { EmbeddedCa } from '../security/embedded-ca.js';
import { startCaBundlePatcher, type CaBundlePatcher } from './ca-bundle-patcher.js';
import { validatorAnswers } from './validator-probe.js';
import { readInjectorConfigMap, type InjectorSettings } from './injector-configmap.js';
import { WebhookServer } from './webhook-server.js';
import { webhookMetrics } from './webhook-metrics.js';
import type { Registry } from 'prom-client';

export interface WebhookConfig {
  /** `host:port`; default `0.0.0.0:15017`. */
  readonly addr?: string | undefined;
  /** Overrides of the injector's defaults (image, skeind's address, policy, resources...). */
  readonly injector?: Partial<InjectorConfig> | undefined;
  /** MutatingWebhookConfigurations whose caBundle skeind keeps; default `skein-sidecar-injector`. */
  readonly mutatingConfigs?: readonly string[] | undefined;
  /** ValidatingWebhookConfigurations whose caBundle skeind keeps; default `skein-validator`. */
  readonly validatingConfigs?: readonly string[] | undefined;
  /** Resync of the caBundle patching and of the injector ConfigMap (ms); default 30 000. */
  readonly caBundleResyncMs?: number | undefined;
  /**
   * With Kubernetes: Istio's injector ConfigMap (key `config`: policy, never/alwaysInjectSelector),
   * which wins over `injector` while it exists. Default `skein-system/istio-sidecar-injector`.
   */
  readonly injectorConfigMap?: { readonly namespace: string; readonly name: string } | false | undefined;
}

export interface RunningWebhooks {
  /** Bound `host:port`. */
  readonly address: string;
  /** The caBundle patcher (with Kubernetes). */
  readonly patcher: CaBundlePatcher | undefined;
  /** The injector configuration now. */
  injectorConfig(): InjectorConfig;
  /** Reads the injector ConfigMap again now (also done at every resync). */
  refreshInjectorConfigMap(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhooks(
  o: WebhookConfig & {
    ca: EmbeddedCa;
    kubeconfig: string | undefined;
    mesh: () => MeshConfig;
    namespaces: () => NamespaceLabels;
    log: Logger;
    /** skeind's metrics registry: the webhooks' counters go there. */
    registry?: Registry | undefined;
  },
): Promise<RunningWebhooks> {
  let fromConfigMap: InjectorSettings = {};
  const injectorConfig = (): InjectorConfig => {
    const mesh = o.mesh();
    return {
      ...DEFAULT_INJECTOR_CONFIG,
      trustDomain: mesh.trustDomain,
      defaultProxyConfig: mesh.defaultConfig,
      ...o.injector,
      ...fromConfigMap,
    };
  };
  const kube = o.kubeconfig ? new KubeClient(resolveKubeConnection(o.kubeconfig)) : undefined;
  const cm =
    o.injectorConfigMap === false
      ? undefined
      : (o.injectorConfigMap ?? { namespace: 'skein-system', name: 'istio-sidecar-injector' });
  let lastProblems = '';
  const refreshInjectorConfigMap = async (): Promise<void> => {
    if (!kube || !cm) return;
    try {
      const r = await readInjectorConfigMap(kube, cm.namespace, cm.name);
      if (JSON.stringify(r.settings) !== JSON.stringify(fromConfigMap))
        o.log.info('injector settings', {
          configMap: `${cm.namespace}/${cm.name}`,
          found: r.found,
          ...r.settings,
        });
      fromConfigMap = r.settings;
      const problems = r.problems.join('; ');
      if (problems && problems !== lastProblems)
        o.log.warn('injector ConfigMap', { configMap: `${cm.namespace}/${cm.name}`, problems });
      lastProblems = problems;
    } catch (e) {
      o.log.warn('injector ConfigMap not read; keeping the previous settings', {
        error: (e as Error).message,
      });
    }
  };
  await refreshInjectorConfigMap();
  const cmTimer = setInterval(() => void refreshInjectorConfigMap(), o.caBundleResyncMs ?? 30_000);
  cmTimer.unref();
  const server = new WebhookServer({
    tls: {
      current: () => o.ca.servingCertificate(),
      onRotated: (l) => o.ca.onServingRotated(() => l()),
    },
    injector: injectorConfig,
    namespace: (name) => {
      const labels = o.namespaces().get(name);
      return labels ? { name, labels } : undefined;
    },
    log: o.log,
    onAdmission: o.registry ? webhookMetrics(o.registry) : undefined,
  });
  const address = await server.listen(o.addr ?? '0.0.0.0:15017');
  const patcher = kube
    ? startCaBundlePatcher({
        kube,
        mutating: o.mutatingConfigs ?? ['skein-sidecar-injector'],
        validating: o.validatingConfigs ?? ['skein-validator'],
        caBundlePem: () => o.ca.rootCertPem,
        validatorReady: () => validatorAnswers(kube),
        resyncMs: o.caBundleResyncMs,
        log: o.log,
      })
    : undefined;
  o.log.info('webhooks serving', { address, inject: '/inject', validate: '/validate' });
  return {
    address,
    patcher,
    injectorConfig,
    refreshInjectorConfigMap,
    close: async () => {
      clearInterval(cmTimer);
      patcher?.stop();
      await server.close();
    },
  };
}
