// Keeps the `caBundle` of skeind's webhook configurations equal to the mesh root (as istiod does
// for istio-sidecar-injector and its validator), so no manual step is needed: at start, then at
// every resync (a configuration reset by a re-apply is patched again; one not found yet is looked
// for again every 2 s). Like istiod, the validating configurations are installed with
// `failurePolicy: Ignore` (config can be applied before skeind runs) and switched to `Fail` once
// the API server is seen calling the validator (`validatorReady`); checked every 2 s until then.
import type { KubeApi } from '@skein/ca';
import type { Logger } from '../log.js';

const BASE = '/apis/admissionregistration.k8s.io/v1';

export interface CaBundlePatcherOptions {
  readonly kube: KubeApi;
  /** MutatingWebhookConfiguration names. */
  readonly mutating: readonly string[];
  /** ValidatingWebhookConfiguration names. */
  readonly validating: readonly string[];
  /** The PEM the API server must trust (the mesh root). */
  readonly caBundlePem: () => string;
  /**
   * Whether the API server really calls the validator now (a dry-run of an invalid object is
   * refused by it); when true, the validating webhooks' `failurePolicy: Ignore` becomes `Fail`.
   */
  readonly validatorReady?: (() => Promise<boolean>) | undefined;
  /** Period of the re-check (ms); default 30 000. */
  readonly resyncMs?: number | undefined;
  readonly log: Logger;
}

interface WebhookConfiguration {
  metadata?: { name?: string; resourceVersion?: string };
  webhooks?: { name: string; clientConfig?: { caBundle?: string }; failurePolicy?: string }[];
}

export interface CaBundlePatcher {
  /** One pass over every configuration; resolves with the names patched now. */
  reconcile(): Promise<string[]>;
  stop(): void;
}

export function startCaBundlePatcher(o: CaBundlePatcherOptions): CaBundlePatcher {
  const targets = [
    ...o.mutating.map((n) => `${BASE}/mutatingwebhookconfigurations/${n}`),
    ...o.validating.map((n) => `${BASE}/validatingwebhookconfigurations/${n}`),
  ];
  const missing = new Set<string>();
  /** Validating configurations still on `failurePolicy: Ignore`. */
  const ignoring = new Set<string>();
  const isValidating = (path: string) => path.includes('/validatingwebhookconfigurations/');

  const patchOne = async (path: string): Promise<boolean> => {
    const want = Buffer.from(o.caBundlePem()).toString('base64');
    for (let attempt = 0; attempt < 3; attempt++) {
      const got = await o.kube.call<WebhookConfiguration>('GET', path);
      if (got.status === 404) {
        if (!missing.has(path)) o.log.info('webhook configuration not found; will look again', { path });
        missing.add(path);
        return false;
      }
      if (got.status !== 200) throw new Error(`GET ${path}: HTTP ${got.status}`);
      missing.delete(path);
      const cfg = got.body;
      let changed = false;
      for (const w of cfg.webhooks ?? []) {
        if (w.clientConfig?.caBundle === want) continue;
        w.clientConfig = { ...w.clientConfig, caBundle: want };
        changed = true;
      }
      // With the right caBundle in place, a validator the API server is seen calling becomes Fail.
      const lenient = isValidating(path)
        ? (cfg.webhooks ?? []).filter((w) => w.failurePolicy === 'Ignore')
        : [];
      let enforced = false;
      if (lenient.length > 0 && !changed && o.validatorReady && (await o.validatorReady())) {
        for (const w of lenient) w.failurePolicy = 'Fail';
        enforced = true;
      }
      if (lenient.length > 0 && !enforced) ignoring.add(path);
      else ignoring.delete(path);
      if (!changed && !enforced) return false;
      const put = await o.kube.call('PUT', path, cfg);
      if (put.status === 200) {
        if (changed) o.log.info('webhook caBundle patched', { path, webhooks: cfg.webhooks?.length ?? 0 });
        if (enforced) o.log.info('validation webhook answers: failurePolicy set to Fail', { path });
        return true;
      }
      if (put.status !== 409) throw new Error(`PUT ${path}: HTTP ${put.status}`);
      // 409: somebody changed it since the GET; read it again.
    }
    throw new Error(`PUT ${path}: conflict three times`);
  };

  const pass = async (): Promise<string[]> => {
    const patched: string[] = [];
    for (const t of targets) {
      try {
        if (await patchOne(t)) patched.push(t.slice(t.lastIndexOf('/') + 1));
      } catch (e) {
        o.log.warn('webhook caBundle not patched; retrying at the next resync', {
          path: t,
          error: (e as Error).message,
        });
      }
    }
    return patched;
  };
  // Passes run one after another: a call made during a pass gets a pass of its own.
  let queue: Promise<unknown> = Promise.resolve();
  const reconcile = (): Promise<string[]> => {
    const next = queue.then(pass);
    queue = next.catch(() => undefined);
    return next;
  };

  // A configuration not found yet (applied after skeind) is looked for again within seconds.
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const loop = (): void => {
    void reconcile().then(() => {
      if (stopped) return;
      timer = setTimeout(
        loop,
        missing.size > 0 || ignoring.size > 0
          ? Math.min(2_000, o.resyncMs ?? 30_000)
          : (o.resyncMs ?? 30_000),
      );
      timer.unref();
    });
  };
  loop();
  return {
    reconcile,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
