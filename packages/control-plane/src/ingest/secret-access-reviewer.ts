// Kubernetes mode: asks the API server, by SubjectAccessReview, whether a proxy's service account
// may `list` `secrets` in its namespace (istiod's check before serving credentialName Secrets;
// the gateway charts grant it with a Role), and keeps each verdict in the config store as a
// SecretAccessReview object (model/secret-access.ts). A verdict is asked again when a proxy of that
// account connects after `minAgeMs`, and every `refreshMs` for every account seen, so a Role
// granted or revoked later takes effect without a restart. A failed review counts as denied.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { secretAccessObject } from '../model/secret-access.js';
import type { ConfigStore } from './config-store.js';

export interface SecretAccessReviewerOptions {
  /** A kubeconfig path; absent: the standard lookup (KUBECONFIG, ~/.kube/config, in-cluster). */
  readonly kubeconfig?: string | undefined;
  readonly store: ConfigStore;
  readonly log: Logger;
  /** A verdict younger than this is not asked again on a new connection (default 5 s). */
  readonly minAgeMs?: number | undefined;
  /** How often every known account is reviewed again (default 60 s). */
  readonly refreshMs?: number | undefined;
}

/** The SubjectAccessReview call, separated so a test can count calls. */
export type AccessReview = (
  namespace: string,
  serviceAccount: string,
) => Promise<{ allowed: boolean; reason: string }>;

export function kubeAccessReview(kubeconfig: string | undefined): AccessReview {
  const kc = new k8s.KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromDefault();
  const api = kc.makeApiClient(k8s.AuthorizationV1Api);
  return async (namespace, serviceAccount) => {
    const res = await api.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: `system:serviceaccount:${namespace}:${serviceAccount}`,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
          resourceAttributes: { namespace, verb: 'list', resource: 'secrets' },
        },
      },
    });
    return { allowed: res.status?.allowed === true, reason: res.status?.reason ?? '' };
  };
}

export class SecretAccessReviewer {
  readonly id = 'secret-access';
  private readonly reviewedAt = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private readonly verdicts = new Map<string, boolean>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly opts: SecretAccessReviewerOptions,
    private readonly ask: AccessReview = kubeAccessReview(opts.kubeconfig),
  ) {
    opts.store.addSource(this.id);
    const refreshMs = opts.refreshMs ?? 60_000;
    this.timer = setInterval(() => {
      for (const key of this.reviewedAt.keys()) this.run(key);
    }, refreshMs);
    this.timer.unref();
  }

  /** A proxy of `namespace/serviceAccount` connected: review it unless a fresh verdict exists. */
  review(namespace: string, serviceAccount: string): void {
    const key = `${namespace}/${serviceAccount}`;
    const at = this.reviewedAt.get(key);
    if (at !== undefined && Date.now() - at < (this.opts.minAgeMs ?? 5000)) return;
    this.run(key);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private run(key: string): void {
    if (this.inFlight.has(key) || this.stopped) return;
    this.inFlight.add(key);
    const [namespace = '', serviceAccount = ''] = key.split('/');
    this.ask(namespace, serviceAccount)
      .catch((e: unknown) => ({
        allowed: false,
        reason: `review failed: ${(e as Error).message ?? String(e)}`,
      }))
      .then((v) => {
        this.inFlight.delete(key);
        this.reviewedAt.set(key, Date.now());
        if (this.stopped || this.verdicts.get(key) === v.allowed) return;
        this.verdicts.set(key, v.allowed);
        const fields = {
          serviceAccount: key,
          reason: v.reason || (v.allowed ? 'allowed' : `may not list secrets in ${namespace}`),
        };
        if (v.allowed) this.opts.log.info('proxies may receive credentialName secrets', fields);
        else this.opts.log.warn('proxies get no credentialName secrets', fields);
        this.opts.store.upsert(this.id, secretAccessObject(namespace, serviceAccount, v));
      });
  }
}
