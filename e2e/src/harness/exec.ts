/**
 * Runs a command in a pod's container through the API server (what `kubectl exec` does) and
 * returns its exit code and output.
 */
import { Exec, type V1Status } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import type { Cluster } from './cluster.js';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function exec(
  cluster: Cluster,
  namespace: string,
  pod: string,
  container: string,
  command: readonly string[],
  timeoutMs = 60_000,
): Promise<ExecResult> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        append(chunk.toString('utf8'));
        cb();
      },
    });
  const status = await new Promise<V1Status>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`exec ${command.join(' ')} timed out after ${timeoutMs}ms`)),
      timeoutMs,
    );
    new Exec(cluster.kubeconfig)
      .exec(
        namespace,
        pod,
        container,
        [...command],
        sink((s) => (stdout += s)),
        sink((s) => (stderr += s)),
        null,
        false,
        (s) => {
          clearTimeout(timer);
          resolve(s);
        },
      )
      .then((ws) =>
        ws.on('close', () => {
          // a stream that closes without a status means the connection broke
          setTimeout(
            () => reject(new Error(`exec ${command.join(' ')}: connection closed without status`)),
            2_000,
          ).unref();
        }),
      )
      .catch((err: unknown) => {
        clearTimeout(timer);
        reject(
          err instanceof Error
            ? err
            : new Error(`exec ${command.join(' ')} in ${namespace}/${pod}: ${JSON.stringify(err)}`),
        );
      });
  });
  return { code: exitCode(status), stdout, stderr };
}

function exitCode(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message !== undefined) return Number(cause.message);
  throw new Error(`exec failed: ${status.message ?? JSON.stringify(status)}`);
}
