// kubeconfig `exec` users (client.authentication.k8s.io): the plugin command is run with its args
// and env plus KUBERNETES_EXEC_INFO, and its ExecCredential on stdout gives a bearer token or a
// client certificate. The result is cached until its `expirationTimestamp` (re-run a minute early),
// and re-run after the API server answers 401 (see KubeClient).
import { execFile } from 'node:child_process';
import { dirname, isAbsolute, resolve } from 'node:path';

export interface ExecConfig {
  apiVersion?: string;
  command: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  /** Istio/kubectl field; only `Never`-style (non-interactive) use is supported. */
  interactiveMode?: string;
}

export interface ExecResult {
  token?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  /** Milliseconds since the epoch; undefined: valid until the server refuses it. */
  expiresAt?: number;
}

interface ExecCredential {
  kind?: string;
  status?: {
    token?: string;
    clientCertificateData?: string;
    clientKeyData?: string;
    expirationTimestamp?: string;
  };
}

/** Runs the plugin once and reads its ExecCredential. */
export function runExecPlugin(exec: ExecConfig, kubeconfigPath: string): Promise<ExecResult> {
  const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
  // A relative command path is relative to the kubeconfig's directory, as kubectl resolves it.
  const command =
    exec.command.includes('/') && !isAbsolute(exec.command)
      ? resolve(dirname(kubeconfigPath), exec.command)
      : exec.command;
  const env = {
    ...process.env,
    ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])),
    KUBERNETES_EXEC_INFO: JSON.stringify({
      apiVersion,
      kind: 'ExecCredential',
      spec: { interactive: false },
    }),
  };
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      exec.args ?? [],
      { env, timeout: 30_000, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) {
          reject(
            new Error(
              `kubeconfig exec plugin ${exec.command}: ${err.message.trim()} ${stderr.trim()}`.trim(),
            ),
          );
          return;
        }
        let cred: ExecCredential;
        try {
          cred = JSON.parse(stdout) as ExecCredential;
        } catch {
          reject(
            new Error(`kubeconfig exec plugin ${exec.command}: its output is not an ExecCredential (JSON)`),
          );
          return;
        }
        const s = cred.status ?? {};
        if (cred.kind !== 'ExecCredential' || !(s.token || (s.clientCertificateData && s.clientKeyData))) {
          reject(
            new Error(
              `kubeconfig exec plugin ${exec.command}: the ExecCredential has neither status.token nor a client certificate`,
            ),
          );
          return;
        }
        const expiresAt = s.expirationTimestamp ? Date.parse(s.expirationTimestamp) : undefined;
        resolvePromise({
          ...(s.token ? { token: s.token } : {}),
          ...(s.clientCertificateData && s.clientKeyData
            ? { clientCertPem: s.clientCertificateData, clientKeyPem: s.clientKeyData }
            : {}),
          ...(expiresAt !== undefined && !Number.isNaN(expiresAt) ? { expiresAt } : {}),
        });
      },
    );
  });
}

/** Credentials from an exec plugin, cached until a minute before they expire or until invalidated. */
export class ExecCredentials {
  private cached: Promise<ExecResult> | undefined;
  constructor(
    private readonly exec: ExecConfig,
    private readonly kubeconfigPath: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<ExecResult> {
    const c = this.cached ? await this.cached.catch(() => undefined) : undefined;
    if (c && (c.expiresAt === undefined || c.expiresAt - 60_000 > this.now())) return c;
    this.cached = runExecPlugin(this.exec, this.kubeconfigPath);
    return this.cached;
  }

  /** The API server refused the credentials: the next call runs the plugin again. */
  invalidate(): void {
    this.cached = undefined;
  }
}
