// The Kubernetes source: informers (@kubernetes/client-node) on every mesh CRD, Services,
// EndpointSlices, Pods, Namespaces, TLS Secrets (credentialName) and the mesh ConfigMap (`istio`, key `mesh`, in the control
// plane's namespace). Mesh objects are validated like any other and fed to the config
// store; an invalid one is skipped and gets a status condition with the validation message.
// Services + EndpointSlices + Pods become registry services. An informer whose watch fails
// (API server restart, CRD not yet installed) restarts with backoff and resynchronises.
import * as k8s from '@kubernetes/client-node';
import { meshKinds } from '@skein/api-types';
import type { Logger } from '../log.js';
import { SECRET_KIND, isTlsSecretData } from '../model/credentials.js';
import type { ConfigObject } from '../model/istio-types.js';
import {
  servicesFromKubernetes,
  type KubeEndpointSlice,
  type KubePod,
  type KubeService,
} from '../model/kubernetes-services.js';
import type { MeshConfig } from '../model/mesh-config.js';
import type { Labels, NamespaceLabels } from '../model/namespaces.js';
import type { Service } from '../model/services.js';
import type { ConfigStore } from './config-store.js';
import { meshConfigFromText } from './mesh-config-file.js';
import type { Problem, Validator } from './validation.js';

export interface KubernetesSourceOptions {
  /** Path of a kubeconfig; default: KUBECONFIG, ~/.kube/config or in-cluster credentials. */
  readonly kubeconfig?: string | undefined;
  readonly store: ConfigStore;
  readonly validate: Validator;
  readonly onProblem: (p: Problem) => void;
  /** Called with every Kubernetes service whenever Services, EndpointSlices or Pods change;
   * `observedAt`: when the latest informer event arrived (epoch ms). */
  readonly onServices: (services: Service[], observedAt?: number) => void;
  readonly log: Logger;
  /** Write a status condition on invalid mesh objects (default true). */
  readonly writeStatus?: boolean | undefined;
  /** The mesh ConfigMap (Istio's `istio` in the control plane's namespace); key `mesh`. */
  readonly meshConfigMap?: { readonly namespace: string; readonly name: string } | undefined;
  /**
   * The ConfigMap's mesh config whenever it changes; undefined when the ConfigMap (or its `mesh`
   * key) is absent. An invalid one is reported through `log` and the previous one kept.
   */
  readonly onMeshConfig?: ((mesh: MeshConfig | undefined) => void) | undefined;
  /** Every namespace with its labels, whenever a namespace is added, relabelled or deleted. */
  readonly onNamespaces?: ((namespaces: NamespaceLabels) => void) | undefined;
}

type Obj = k8s.KubernetesObject & { spec?: unknown; status?: unknown };

interface Watched<T extends k8s.KubernetesObject> {
  readonly name: string;
  readonly informer: k8s.Informer<T> & k8s.ObjectCache<T>;
}

export class KubernetesSource {
  readonly id = 'kubernetes';
  private readonly kc = new k8s.KubeConfig();
  private readonly crds: (Watched<Obj> & { group: string; version: string; plural: string })[] = [];
  private services!: Watched<k8s.V1Service>;
  private slices!: Watched<k8s.V1EndpointSlice>;
  private pods!: Watched<k8s.V1Pod>;
  private namespaces!: Watched<k8s.V1Namespace>;
  private secrets!: Watched<k8s.V1Secret>;
  private configMaps: Watched<k8s.V1ConfigMap> | undefined;
  private lastNamespaces = '';
  private lastMeshText: string | undefined | null = null;
  private stopped = false;
  private flushScheduled = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** uid@generation of invalid objects whose status we already wrote. */
  private readonly statusWritten = new Set<string>();
  private readonly problems = new Map<string, Problem[]>();

  constructor(private readonly opts: KubernetesSourceOptions) {
    if (opts.kubeconfig) this.kc.loadFromFile(opts.kubeconfig);
    else this.kc.loadFromDefault();
  }

  /** Starts every informer; resolves after each has listed once (or failed and is retrying). */
  async start(): Promise<void> {
    this.opts.store.addSource(this.id);
    const core = this.kc.makeApiClient(k8s.CoreV1Api);
    const discovery = this.kc.makeApiClient(k8s.DiscoveryV1Api);
    const custom = this.kc.makeApiClient(k8s.CustomObjectsApi);
    for (const kind of meshKinds) {
      const version = kind.versions[0] ?? 'v1';
      const path = `/apis/${kind.group}/${version}/${kind.plural}`;
      const informer = k8s.makeInformer<Obj>(
        this.kc,
        path,
        () =>
          custom.listClusterCustomObject({ group: kind.group, version, plural: kind.plural }) as Promise<
            k8s.KubernetesListObject<Obj>
          >,
      );
      this.crds.push({
        name: `${kind.plural}.${kind.group}`,
        informer,
        group: kind.group,
        version,
        plural: kind.plural,
      });
    }
    this.services = {
      name: 'services',
      informer: k8s.makeInformer(this.kc, '/api/v1/services', () => core.listServiceForAllNamespaces()),
    };
    this.slices = {
      name: 'endpointslices',
      informer: k8s.makeInformer(this.kc, '/apis/discovery.k8s.io/v1/endpointslices', () =>
        discovery.listEndpointSliceForAllNamespaces(),
      ),
    };
    this.pods = {
      name: 'pods',
      informer: k8s.makeInformer(this.kc, '/api/v1/pods', () => core.listPodForAllNamespaces()),
    };
    this.namespaces = {
      name: 'namespaces',
      informer: k8s.makeInformer(this.kc, '/api/v1/namespaces', () => core.listNamespace()),
    };
    // TLS credentials for credentialName (Helm releases and service-account tokens left out).
    const secretFields = 'type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token';
    this.secrets = {
      name: 'secrets',
      // makeInformer takes no field selector: the ListWatch it builds does.
      informer: new k8s.ListWatch(
        '/api/v1/secrets',
        new k8s.Watch(this.kc),
        () => core.listSecretForAllNamespaces({ fieldSelector: secretFields }),
        false,
        undefined,
        secretFields,
      ),
    };
    const cm = this.opts.meshConfigMap;
    if (cm)
      this.configMaps = {
        name: `configmaps in ${cm.namespace}`,
        informer: k8s.makeInformer(this.kc, `/api/v1/namespaces/${cm.namespace}/configmaps`, () =>
          core.listNamespacedConfigMap({ namespace: cm.namespace }),
        ),
      };
    await Promise.all(this.watched().map((w) => this.run(w, 500)));
    this.flush();
  }

  private watched(): Watched<k8s.KubernetesObject>[] {
    return [
      ...this.crds,
      this.services,
      this.slices,
      this.pods,
      this.namespaces,
      this.secrets,
      ...(this.configMaps ? [this.configMaps] : []),
    ].filter(Boolean);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(this.watched().map((w) => w.informer.stop().catch(() => undefined)));
  }

  /** Current problems of Kubernetes objects (invalid mesh objects). */
  currentProblems(): Problem[] {
    return [...this.problems.values()].flat();
  }

  private async run(w: Watched<k8s.KubernetesObject>, backoffMs: number): Promise<void> {
    const changed = (): void => {
      this.observedAt = Date.now();
      this.scheduleFlush();
    };
    w.informer.on('add', changed);
    w.informer.on('update', changed);
    w.informer.on('delete', changed);
    w.informer.on('error', (err: unknown) => {
      if (this.stopped) return;
      this.opts.log.warn('watch failed; restarting', {
        resource: w.name,
        error: String((err as Error)?.message ?? err),
        retryMs: backoffMs,
      });
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (!this.stopped) void w.informer.start().catch(() => undefined);
      }, backoffMs);
      this.timers.add(t);
      backoffMs = Math.min(backoffMs * 2, 10_000);
    });
    w.informer.on('connect', () => {
      backoffMs = 500;
    });
    await w.informer.start().catch(() => undefined);
  }

  /** When the latest informer event arrived (epoch ms), carried to the push debounce. */
  private observedAt: number | undefined;

  private scheduleFlush(): void {
    if (this.flushScheduled || this.stopped) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Rebuilds this source's objects and services from the informer caches. */
  private flush(): void {
    const objects: ConfigObject[] = [];
    const problems = new Map<string, Problem[]>();
    for (const crd of this.crds) {
      for (const raw of crd.informer.list()) {
        const obj = clean(raw);
        const v = this.opts.validate(obj);
        // Writing status changes resourceVersion but not generation: key on generation.
        const key = `${raw.metadata?.uid}@${raw.metadata?.generation}`;
        if (!v.ok) {
          problems.set(key, v.problems);
          if (!this.problems.has(key)) for (const p of v.problems) this.opts.onProblem(p);
          this.writeStatus(crd, raw, v.problems, key);
          continue;
        }
        objects.push(v.object);
      }
    }
    for (const raw of this.secrets.informer.list()) {
      if (!isTlsSecretData(raw.data)) continue;
      const v = this.opts.validate({ ...raw, apiVersion: 'v1', kind: SECRET_KIND });
      const key = `${raw.metadata?.uid}@${raw.metadata?.resourceVersion}`;
      if (!v.ok) {
        problems.set(key, v.problems);
        if (!this.problems.has(key)) for (const p of v.problems) this.opts.onProblem(p);
        continue;
      }
      objects.push(v.object);
    }
    this.problems.clear();
    for (const [k, v] of problems) this.problems.set(k, v);
    const observedAt = this.observedAt;
    this.observedAt = undefined;
    this.opts.store.replace(this.id, objects, observedAt);
    this.opts.onServices(
      servicesFromKubernetes(
        this.services.informer.list() as readonly KubeService[],
        this.slices.informer.list() as readonly KubeEndpointSlice[],
        this.pods.informer.list() as readonly KubePod[],
      ),
      observedAt,
    );
    this.flushNamespaces();
    this.flushMeshConfig();
  }

  private flushNamespaces(): void {
    const entries = this.namespaces.informer
      .list()
      .map((n): [string, Labels] => [n.metadata?.name ?? '', { ...n.metadata?.labels }])
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const text = JSON.stringify(entries);
    if (text === this.lastNamespaces) return;
    this.lastNamespaces = text;
    this.opts.onNamespaces?.(new Map(entries));
  }

  private flushMeshConfig(): void {
    const want = this.opts.meshConfigMap;
    if (!want || !this.configMaps) return;
    const cm = this.configMaps.informer.list().find((c) => c.metadata?.name === want.name);
    const text = cm?.data?.['mesh'];
    if (text === this.lastMeshText) return;
    this.lastMeshText = text;
    if (text === undefined) {
      this.opts.onMeshConfig?.(undefined);
      return;
    }
    const r = meshConfigFromText(text);
    if (!r.ok) {
      this.opts.log.warn('mesh ConfigMap rejected; keeping the previous mesh config', {
        configMap: `${want.namespace}/${want.name}`,
        problems: r.problems,
      });
      return;
    }
    this.opts.onMeshConfig?.(r.config);
  }

  private writeStatus(
    crd: { group: string; version: string; plural: string },
    raw: Obj,
    problems: readonly Problem[],
    key: string,
  ): void {
    if (this.opts.writeStatus === false || this.statusWritten.has(key)) return;
    this.statusWritten.add(key);
    const custom = this.kc.makeApiClient(k8s.CustomObjectsApi);
    const message = problems.map((p) => `${p.path}: ${p.reason}`).join('; ');
    const body = {
      status: {
        conditions: [
          {
            type: 'Reconciled',
            status: 'False',
            reason: 'ValidationFailed',
            message,
            lastTransitionTime: new Date().toISOString(),
          },
        ],
        validationMessages: problems.map((p) => ({
          level: p.severity === 'error' ? 'ERROR' : 'WARNING',
          type: { code: 'SKEIN0001', name: 'InvalidObject' },
          description: `${p.path}: ${p.reason}`,
        })),
        observedGeneration: String(raw.metadata?.generation ?? ''),
      },
    };
    custom
      .patchNamespacedCustomObjectStatus(
        {
          group: crd.group,
          version: crd.version,
          plural: crd.plural,
          namespace: raw.metadata?.namespace ?? 'default',
          name: raw.metadata?.name ?? '',
          body,
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      )
      .then(() =>
        this.opts.log.info('status written', {
          object: `${raw.kind} ${raw.metadata?.namespace}/${raw.metadata?.name}`,
        }),
      )
      .catch((err: unknown) => {
        this.statusWritten.delete(key);
        this.opts.log.warn('could not write status', {
          object: `${raw.kind} ${raw.metadata?.namespace}/${raw.metadata?.name}`,
          error: String(err),
        });
      });
  }
}

/** The object as a user wrote it: apiVersion, kind, metadata (identity, labels), spec. */
function clean(raw: Obj): unknown {
  const m = raw.metadata ?? {};
  const created = m.creationTimestamp as unknown;
  return {
    apiVersion: raw.apiVersion,
    kind: raw.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace ?? 'default',
      ...(m.labels ? { labels: m.labels } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
      ...(created
        ? { creationTimestamp: created instanceof Date ? created.toISOString() : String(created) }
        : {}),
      ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
    },
    spec: raw.spec,
  };
}
