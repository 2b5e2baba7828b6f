// The few Kubernetes API calls the CA makes (TokenReview, Secrets, ConfigMaps, Namespaces) over
// HTTPS with a bearer token: from a kubeconfig (token users) or the in-cluster service account.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { parseYamlDocuments } from '@skein/api-types';

export interface KubeConnection {
  server: string;
  token: string;
  caPem?: string;
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
  users?: { name: string; user: { token?: string; tokenFile?: string } }[];
}

/** A connection from a kubeconfig whose current user authenticates with a token. */
export function kubeconfigConnection(path: string): KubeConnection {
  const cfg = parseYamlDocuments(readFileSync(path, 'utf8'))[0]?.value as Kubeconfig;
  const ctx = cfg.contexts?.find((c) => c.name === cfg['current-context'])?.context;
  const cluster = cfg.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  const user = cfg.users?.find((u) => u.name === ctx?.user)?.user;
  if (!cluster || !user) throw new Error(`kubeconfig ${path}: no current context`);
  const token = user.token ?? (user.tokenFile ? readFileSync(user.tokenFile, 'utf8').trim() : undefined);
  if (!token)
    throw new Error(`kubeconfig ${path}: the current user has no token (only token users are supported)`);
  const caPem = cluster['certificate-authority-data']
    ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString()
    : cluster['certificate-authority']
      ? readFileSync(cluster['certificate-authority'], 'utf8')
      : undefined;
  return { server: cluster.server, token, ...(caPem ? { caPem } : {}) };
}

export class KubeClient {
  constructor(private readonly c: KubeConnection) {}

  call<T>(method: string, path: string, body?: unknown): Promise<KubeResponse<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.c.server}${path}`,
        {
          method,
          headers: {
            authorization: `Bearer ${this.c.token}`,
            accept: 'application/json',
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
          },
          ...(this.c.caPem ? { ca: this.c.caPem } : {}),
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
