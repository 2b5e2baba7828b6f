// skeinctl install against a ClusterApi: server-side apply of the CRDs (then waits until each is
// Established), the control plane and the webhook configurations, then waits for skeind's
// Deployment to be available and for skeind to switch its validator to failurePolicy Fail.
// Progress goes to `out` line by line; failures throw with what failed and why.
import { SKEIN_VERSION } from '@skein/api-types';
import { describeRef, refOf, type ClusterApi } from './cluster-api.js';
import type { SkeinManifests } from './manifests.js';
import type { KubeObject } from './objects.js';
import { imagesOf, keepLiveFields, skeindDeployment, SKEIN_NAMESPACE, SKEIND, VALIDATOR } from './plan.js';
import {
  crdEstablished,
  describeConditions,
  describePods,
  formatDuration,
  rolloutStatus,
  validatorEnforcing,
} from './status.js';

export interface InstallOptions {
  /** The whole install (applies and waits) must finish within this. */
  readonly timeoutMs: number;
  /** Wait for skeind to be available and enforcing validation (false: --no-wait). */
  readonly wait: boolean;
  readonly out: (line: string) => void;
  /** Poll period of the waits; default 500 ms. */
  readonly pollMs?: number;
  readonly now?: () => number;
}

export type Outcome = 'created' | 'configured' | 'unchanged';

export interface InstallResult {
  readonly applied: readonly { readonly object: string; readonly outcome: Outcome }[];
  readonly waited: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function install(api: ClusterApi, m: SkeinManifests, o: InstallOptions): Promise<InstallResult> {
  const now = o.now ?? Date.now;
  const start = now();
  const deadline = start + o.timeoutMs;
  const poll = o.pollMs ?? 500;
  const since = (t: number): string => formatDuration(now() - t);
  const applied: { object: string; outcome: Outcome }[] = [];

  const version = await api.version();
  const images = imagesOf(skeindDeployment(m));
  o.out(
    `Installing Skein ${SKEIN_VERSION} into ${api.server} (context ${api.context}, Kubernetes ${version})`,
  );
  o.out(`  skeind image ${images.skeind}, sidecar image ${images.proxy}`);

  const applyAll = async (objects: readonly KubeObject[], each: boolean): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    for (const obj of objects) {
      const live = await api.get(refOf(obj));
      const stored = await api.apply(keepLiveFields(obj, live));
      const outcome: Outcome = !live
        ? 'created'
        : live.metadata.resourceVersion === stored.metadata.resourceVersion
          ? 'unchanged'
          : 'configured';
      outcomes.push(outcome);
      applied.push({ object: describeRef(refOf(obj)), outcome });
      if (each) o.out(`  ${describeRef(refOf(obj))} ${outcome}`);
    }
    return outcomes;
  };

  /** Polls `probe` until it returns a value; on the deadline, throws with `explain()`. */
  const until = async <T>(
    what: string,
    probe: () => Promise<T | undefined>,
    explain: () => Promise<string>,
  ): Promise<T> => {
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (now() + poll > deadline)
        throw new Error(
          `timed out after ${formatDuration(o.timeoutMs)} waiting for ${what}${await explain()}`,
        );
      await sleep(poll);
    }
  };

  // 1. CRDs, Established before anything that may be validated against them
  let t = now();
  const crdOutcomes = await applyAll(m.crds, false);
  const pending = new Set(m.crds.map((c) => c.metadata.name));
  await until(
    'the CustomResourceDefinitions to be Established',
    async () => {
      for (const name of [...pending]) {
        const crd = await api.get({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          name,
        });
        if (crd && crdEstablished(crd)) pending.delete(name);
      }
      return pending.size === 0 ? true : undefined;
    },
    async () => `: not Established: ${[...pending].join(', ')}`,
  );
  o.out(`✔ ${m.crds.length} CustomResourceDefinitions ${summary(crdOutcomes)}, Established (${since(t)})`);

  // 2. the control plane, 3. its webhook configurations
  o.out('control plane:');
  await applyAll(m.controlPlane, true);
  o.out('webhook configurations:');
  await applyAll(m.webhooks, true);

  if (!o.wait) {
    o.out(`✔ applied in ${since(start)}; not waiting for skeind (--no-wait)`);
    nextSteps(o.out);
    return { applied, waited: false };
  }

  // 4. skeind rolled out and available
  t = now();
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: SKEIN_NAMESPACE, name: SKEIND };
  o.out(`… waiting for Deployment ${SKEIN_NAMESPACE}/${SKEIND} to be available`);
  let last = '';
  await until(
    `Deployment ${SKEIN_NAMESPACE}/${SKEIND} to be available`,
    async () => {
      const d = await api.get(ref);
      if (!d)
        throw new Error(`Deployment ${SKEIN_NAMESPACE}/${SKEIND} disappeared while install waited for it`);
      const r = rolloutStatus(d);
      if (r.failed)
        throw new Error(`Deployment ${SKEIN_NAMESPACE}/${SKEIND}: ${r.message}${await diagnose(api)}`);
      if (!r.done && r.message !== last) o.out(`  ${r.message}`);
      last = r.message;
      return r.done ? r : undefined;
    },
    () => diagnose(api),
  );
  o.out(`✔ skeind available (${since(t)})`);

  // 5. skeind's validator self-check passed: failurePolicy Fail
  t = now();
  o.out(
    `… waiting for skeind to enforce validation (ValidatingWebhookConfiguration ${VALIDATOR}: failurePolicy Fail)`,
  );
  await until(
    `skeind to switch ValidatingWebhookConfiguration ${VALIDATOR} to failurePolicy Fail`,
    async () => {
      const v = await api.get({
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        name: VALIDATOR,
      });
      return v && validatorEnforcing(v) ? true : undefined;
    },
    async () =>
      ': skeind switches it once its self-check (a dry-run create of an invalid VirtualService) is refused by its webhook; ' +
      `see \`kubectl logs -n ${SKEIN_NAMESPACE} deploy/${SKEIND}\``,
  );
  // 6. and the webhook answers through its Service: the API server refuses an invalid
  // VirtualService (dry run) with skeind's reason. A validator left on Fail by an earlier install
  // says nothing about the pod just rolled out, nor whether the Service already routes to it.
  // Asked once the replaced pods are gone (none terminating), and it must hold twice in a row.
  let answer = '';
  let refusals = 0;
  await until(
    'skeind to refuse an invalid VirtualService through the API server',
    async () => {
      const pods = await api.list('v1', 'Pod', SKEIN_NAMESPACE, { label: `app=${SKEIND}` });
      const leaving = pods.filter((p) => p.metadata['deletionTimestamp'] !== undefined).length;
      if (leaving > 0) {
        answer = `(not asked: ${leaving} replaced pod(s) still terminating)`;
        refusals = 0;
        return undefined;
      }
      const r = await api.createDryRun(INVALID_VIRTUAL_SERVICE);
      answer = `HTTP ${r.status}: ${r.message}`;
      const refused =
        r.status >= 400 && r.message.includes(`admission webhook "${VALIDATING_WEBHOOK}" denied`);
      refusals = refused ? refusals + 1 : 0;
      return refusals >= 2 ? true : undefined;
    },
    async () => `: the last answer to a dry-run invalid VirtualService was ${answer}`,
  );
  o.out(`✔ validation enforced (${since(t)})`);
  o.out(`✔ Skein ${SKEIN_VERSION} installed in ${since(start)}`);
  nextSteps(o.out);
  return { applied, waited: true };
}

/** The webhook skeind serves in ValidatingWebhookConfiguration skein-validator. */
const VALIDATING_WEBHOOK = 'validation.istio.io';

/** What the validation webhook must refuse: a negative route weight (dry run only). */
const INVALID_VIRTUAL_SERVICE = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'skeinctl-install-check', namespace: SKEIN_NAMESPACE },
  spec: {
    hosts: ['skeinctl-install-check.invalid'],
    http: [{ route: [{ destination: { host: 'skeinctl-install-check.invalid' }, weight: -1 }] }],
  },
};

function summary(outcomes: readonly Outcome[]): string {
  const n = (k: Outcome): number => outcomes.filter((x) => x === k).length;
  return (['created', 'configured', 'unchanged'] as const)
    .filter((k) => n(k) > 0)
    .map((k) => `${n(k)} ${k}`)
    .join(', ');
}

function nextSteps(out: (line: string) => void): void {
  out('Next: enable sidecar injection in a namespace, then (re)start its workloads:');
  out('  kubectl label namespace <ns> istio-injection=enabled');
}

function eventTime(e: KubeObject): string {
  return String(e['lastTimestamp'] ?? e['eventTime'] ?? e.metadata['creationTimestamp'] ?? '');
}

/** The Deployment's conditions, its pods' states and their warning events, indented. */
async function diagnose(api: ClusterApi): Promise<string> {
  try {
    const lines: string[] = [];
    const d = await api.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: SKEIN_NAMESPACE,
      name: SKEIND,
    });
    if (d) {
      lines.push(`rollout: ${rolloutStatus(d).message}`);
      lines.push(...describeConditions(d).map((c) => `condition ${c}`));
    }
    const pods = await api.list('v1', 'Pod', SKEIN_NAMESPACE, { label: `app=${SKEIND}` });
    const events = await api.list('v1', 'Event', SKEIN_NAMESPACE, { field: 'type=Warning' });
    // the current pods', and the Deployment's and its ReplicaSets', newest last
    const current = new Set(pods.map((p) => p.metadata.name));
    const related = events
      .filter((e) => {
        const io = (e['involvedObject'] ?? {}) as { kind?: string; name?: string };
        return io.kind === 'Pod' ? current.has(io.name ?? '') : (io.name ?? '').startsWith(SKEIND);
      })
      .sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
    lines.push(...describePods(pods, related.slice(-5)));
    return `\n${lines.map((l) => `  ${l}`).join('\n')}`;
  } catch (e) {
    return `\n  (could not read the Deployment's state: ${(e as Error).message})`;
  }
}
