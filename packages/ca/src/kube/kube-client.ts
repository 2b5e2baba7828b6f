// The few Kubernetes API calls the CA makes (TokenReview, Secrets, ConfigMaps, Namespaces) over
// HTTPS: a bearer token (kubeconfig token users, the in-cluster service account), a client
// certificate (kubeconfig certificate users, as kind writes them), or an exec plugin's credentials.
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseYamlDocuments } from '@skein/api-types';
import { ExecCredentials, type ExecConfig } from './exec-credential.js';

export interface KubeConnection {
  server: string;
  /** Bearer token; or a client certificate below. */
  token?: string;
  caPem?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  /** A kubeconfig exec user: credentials from the plugin, per call (cached until they expire). */
  exec?: ExecCredentials;
}

/** The one method the CA's Kubernetes code needs (a `KubeClient`, or any adapter). */
export interface KubeApi {
  call<T>(method: string, path: string, body?: unknown): Promise<KubeResponse<T>>;
}

export interface KubeResponse<T> {
  status: number;
  body: T;
}

/** A connection from the pod's service account (KUBERNETES_SERVICE_HOST and the mounted token). */
export function inClusterConnection(env = process.env): KubeConnection {
  const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
  const host = env['KUBERNETES_SERVICE_HOST'];
  if (!host) throw new Error('not in a cluster: KUBERNETES_SERVICE_HOST is not set');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${env['KUBERNETES_SERVICE_PORT'] ?? '443'}`,
    token: readFileSync(`${dir}/token`, 'utf8').trim(),
    caPem: readFileSync(`${dir}/ca.crt`, 'utf8'),
  };
}

interface Kubeconfig {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: {
    name: string;
    cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string };
  }[];
  users?: {
    name: string;
    user: {
      token?: string;
      tokenFile?: string;
      'client-certificate-data'?: string;
      'client-key-data'?: string;
      'client-certificate'?: string;
      'client-key'?: string;
      exec?: ExecConfig;
    };
  }[];
}

const dataOrFile = (data: string | undefined, file: string | undefined): string | undefined =>
  data ? Buffer.from(data, 'base64').toString() : file ? readFileSync(file, 'utf8') : undefined;

/** `$KUBECONFIG` (its first file) or `~/.kube/config`. */
export function defaultKubeconfigPath(env = process.env): string {
  return env['KUBECONFIG']?.split(':').find((p) => p !== '') ?? join(homedir(), '.kube', 'config');
}

/**
 * A connection for skeind's `kubeconfig` option: a path, or `in-cluster` / `default` — the pod's
 * service account when KUBERNETES_SERVICE_HOST is set and no kubeconfig file exists, else the
 * default kubeconfig file.
 */
export function resolveKubeConnection(kubeconfig: string, env = process.env): KubeConnection {
  if (kubeconfig !== 'in-cluster' && kubeconfig !== 'default') return kubeconfigConnection(kubeconfig);
  const file = defaultKubeconfigPath(env);
  if (env['KUBERNETES_SERVICE_HOST'] && (kubeconfig === 'in-cluster' || !existsSync(file)))
    return inClusterConnection(env);
  return kubeconfigConnection(file);
}

/** A connection from a kubeconfig whose current user has a token or a client certificate. */
export function kubeconfigConnection(path: string): KubeConnection {
  const cfg = parseYamlDocuments(readFileSync(path, 'utf8'))[0]?.value as Kubeconfig;
  const ctx = cfg.contexts?.find((c) => c.name === cfg['current-context'])?.context;
  const cluster = cfg.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  const user = cfg.users?.find((u) => u.name === ctx?.user)?.user;
  if (!cluster || !user) throw new Error(`kubeconfig ${path}: no current context`);
  const token = user.token ?? (user.tokenFile ? readFileSync(user.tokenFile, 'utf8').trim() : undefined);
  const clientCertPem = dataOrFile(user['client-certificate-data'], user['client-certificate']);
  const clientKeyPem = dataOrFile(user['client-key-data'], user['client-key']);
  const exec = user.exec?.command ? new ExecCredentials(user.exec, path) : undefined;
  if (!token && !(clientCertPem && clientKeyPem) && !exec)
    throw new Error(
      `kubeconfig ${path}: the current user has neither a token, a client certificate nor an exec plugin (auth-provider users are not supported)`,
    );
  const caPem = dataOrFile(cluster['certificate-authority-data'], cluster['certificate-authority']);
  return {
    server: cluster.server,
    ...(exec ? { exec } : {}),
    ...(token ? { token } : {}),
    ...(clientCertPem && clientKeyPem ? { clientCertPem, clientKeyPem } : {}),
    ...(caPem ? { caPem } : {}),
  };
}

export class KubeClient implements KubeApi {
  constructor(private readonly c: KubeConnection) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<KubeResponse<T>> {
    if (!this.c.exec) return this.send<T>(method, path, body, this.c);
    const res = await this.send<T>(method, path, body, { ...this.c, ...(await this.c.exec.get()) });
    if (res.status !== 401) return res;
    // Expired or revoked before its expiry: run the plugin again, once.
    this.c.exec.invalidate();
    return this.send<T>(method, path, body, { ...this.c, ...(await this.c.exec.get()) });
  }

  private send<T>(
    method: string,
    path: string,
    body: unknown,
    c: Omit<KubeConnection, 'exec'>,
  ): Promise<KubeResponse<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        `${c.server}${path}`,
        {
          method,
          headers: {
            ...(c.token ? { authorization: `Bearer ${c.token}` } : {}),
            accept: 'application/json',
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
          },
          ...(c.caPem ? { ca: c.caPem } : {}),
          ...(c.clientCertPem ? { cert: c.clientCertPem, key: c.clientKeyPem } : {}),
          timeout: 10_000,
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : {}) as T });
            } catch (e) {
              reject(new Error(`${method} ${path}: ${(e as Error).message}`));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}
