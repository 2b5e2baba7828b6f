// The Kubernetes API as install/uninstall use it: get, server-side apply, delete and list of plain
// JSON objects over HTTPS. Credentials and contexts come from @kubernetes/client-node's KubeConfig
// (tokens, client certificates, exec plugins); objects are sent and read as the API server's own
// JSON, never through a typed model that could drop a field it does not know.
import { existsSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { request as plainRequest } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { resourcePath, type KubeObject, type ObjectRef } from './objects.js';

/** The field manager of every apply: `kubectl get ... --show-managed-fields` names skeinctl. */
export const FIELD_MANAGER = 'skeinctl';

export interface ClusterApi {
  /** The API server's URL and the kubeconfig context, for messages. */
  readonly server: string;
  readonly context: string;
  /** `v1.34.4`; the first call, so an unreachable cluster fails here. */
  version(): Promise<string>;
  /** The live object, or undefined when it does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** Server-side apply (field manager skeinctl, force): the object as stored. */
  apply(obj: KubeObject): Promise<KubeObject>;
  /**
   * A dry-run create (`?dryRun=All`: admission runs, nothing is stored): the HTTP status and the
   * server's message.
   */
  createDryRun(obj: KubeObject): Promise<{ status: number; message: string }>;
  /** False when it was not there. */
  delete(ref: ObjectRef, propagationPolicy?: 'Foreground' | 'Background'): Promise<boolean>;
  list(
    apiVersion: string,
    kind: string,
    namespace: string,
    selector?: { label?: string; field?: string },
  ): Promise<KubeObject[]>;
}

/** An API error with the server's status and its message (a `Status` object's `message`). */
export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string,
  ) {
    super(message);
  }
}

interface Status {
  kind?: string;
  message?: string;
  reason?: string;
}

export interface ConnectOptions {
  /** A kubeconfig file; default $KUBECONFIG, else ~/.kube/config. */
  readonly kubeconfig?: string | undefined;
  /** A context of that kubeconfig; default its current-context. */
  readonly context?: string | undefined;
  /** Per-request timeout; default 30 s. */
  readonly requestTimeoutMs?: number;
}

export function connectCluster(o: ConnectOptions = {}): ClusterApi {
  const kc = new KubeConfig();
  if (o.kubeconfig !== undefined) {
    if (!existsSync(o.kubeconfig)) throw new Error(`kubeconfig ${o.kubeconfig} does not exist`);
    kc.loadFromFile(o.kubeconfig);
  } else {
    kc.loadFromDefault();
    // with no kubeconfig anywhere (nor a pod's service account) the client falls back to
    // http://localhost:8080; say what is missing instead
    if (
      kc.getCurrentContext() === 'loaded-context' &&
      kc.getCurrentCluster()?.server === 'http://localhost:8080'
    )
      throw new Error('no kubeconfig: pass --kubeconfig, or set $KUBECONFIG, or create ~/.kube/config');
  }
  if (o.context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === o.context))
      throw new Error(
        `context ${o.context} is not in the kubeconfig (it has: ${kc
          .getContexts()
          .map((c) => c.name)
          .join(', ')})`,
      );
    kc.setCurrentContext(o.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current context (use --kubeconfig / --context)');
  return new HttpClusterApi(
    kc,
    cluster.server.replace(/\/$/, ''),
    kc.getCurrentContext(),
    o.requestTimeoutMs,
  );
}

class HttpClusterApi implements ClusterApi {
  constructor(
    private readonly kc: KubeConfig,
    readonly server: string,
    readonly context: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async version(): Promise<string> {
    const r = await this.call<{ gitVersion?: string }>('GET', '/version');
    if (r.status !== 200) throw this.error('GET /version', r.status, r.body as Status);
    return r.body.gitVersion ?? 'unknown';
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    const path = resourcePath(ref);
    const r = await this.call<KubeObject>('GET', path);
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw this.error(`get ${describeRef(ref)}`, r.status, r.body as Status);
    return r.body;
  }

  async apply(obj: KubeObject): Promise<KubeObject> {
    const ref = refOf(obj);
    const path = `${resourcePath(ref)}?fieldManager=${FIELD_MANAGER}&force=true`;
    const r = await this.call<KubeObject>('PATCH', path, obj, 'application/apply-patch+yaml');
    if (r.status !== 200 && r.status !== 201)
      throw this.error(`apply ${describeRef(ref)}`, r.status, r.body as Status);
    return r.body;
  }

  async createDryRun(obj: KubeObject): Promise<{ status: number; message: string }> {
    const path = `${resourcePath({ ...refOf(obj), name: '' }).replace(/\/$/, '')}?dryRun=All&fieldManager=${FIELD_MANAGER}`;
    const r = await this.call<Status>('POST', path, obj);
    return { status: r.status, message: r.body.message ?? '' };
  }

  async delete(
    ref: ObjectRef,
    propagationPolicy: 'Foreground' | 'Background' = 'Background',
  ): Promise<boolean> {
    const r = await this.call<Status>('DELETE', resourcePath(ref), {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy,
    });
    if (r.status === 404) return false;
    if (r.status !== 200 && r.status !== 202)
      throw this.error(`delete ${describeRef(ref)}`, r.status, r.body);
    return true;
  }

  async list(
    apiVersion: string,
    kind: string,
    namespace: string,
    selector: { label?: string; field?: string } = {},
  ): Promise<KubeObject[]> {
    const q = new URLSearchParams();
    if (selector.label) q.set('labelSelector', selector.label);
    if (selector.field) q.set('fieldSelector', selector.field);
    const path = `${resourcePath({ apiVersion, kind, namespace, name: '' }).replace(/\/$/, '')}?${q}`;
    const r = await this.call<{ items?: KubeObject[] }>('GET', path);
    if (r.status !== 200) throw this.error(`list ${kind} in ${namespace}`, r.status, r.body as Status);
    return r.body.items ?? [];
  }

  private error(what: string, status: number, body: Status): KubeApiError {
    const reason = body.reason ?? '';
    const message = body.message ?? `HTTP ${status}`;
    if (status === 401)
      return new KubeApiError(
        `${what}: the API server at ${this.server} refused the credentials of context ${this.context} (401 Unauthorized)`,
        status,
        reason,
      );
    if (status === 403)
      return new KubeApiError(
        `${what}: forbidden: ${message} (installing Skein needs cluster-admin: it creates CRDs, cluster roles and webhook configurations)`,
        status,
        reason,
      );
    return new KubeApiError(
      `${what}: ${message} (HTTP ${status}${reason ? ` ${reason}` : ''})`,
      status,
      reason,
    );
  }

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; body: T }> {
    const opts: RequestOptions = { method, headers: {} };
    await this.kc.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = {
      ...(opts.headers as Record<string, string>),
      accept: 'application/json',
      'user-agent': 'skeinctl',
      ...(payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
    };
    const url = `${this.server}${path}`;
    const plain = url.startsWith('http://');
    const send = plain ? plainRequest : request;
    if (plain) delete opts.agent;
    return new Promise((resolve, reject) => {
      const req = send(url, { ...opts, headers, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = {};
          try {
            parsed = text ? JSON.parse(text) : {};
          } catch {
            parsed = { message: text.slice(0, 300) };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000}s`)));
      req.on('error', (e: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `cannot reach the API server at ${this.server} (context ${this.context}): ${e.code ?? ''}${e.code ? ' ' : ''}${e.message}`,
          ),
        ),
      );
      req.end(payload);
    });
  }
}

export function refOf(obj: KubeObject): ObjectRef {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    ...(obj.metadata.namespace !== undefined ? { namespace: obj.metadata.namespace } : {}),
  };
}

/** `Deployment skein-system/skeind`, `CustomResourceDefinition gateways.networking.istio.io`. */
export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}
