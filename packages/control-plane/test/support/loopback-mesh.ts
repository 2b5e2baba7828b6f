// skeind in directory mode with a real skein-proxy sidecar per loopback "pod": the setup the
// tests that drive traffic through real proxies share.
import { startControlPlane, type RunningControlPlane } from '../../src/control-plane.js';
import type { MeshConfig } from '../../src/model/mesh-config.js';
import { startSidecar, type Sidecar } from './sidecar-proxy.js';

export interface LoopbackMeshOptions {
  readonly configDir: string;
  /** Where bootstraps and sockets go. */
  readonly dir: string;
  readonly namespace: string;
  /** `[name, ip]` per pod; each sidecar is labelled `app: <name>`. */
  readonly pods: readonly (readonly [string, string])[];
  /** skeind's mesh config (default: Istio's defaults). */
  readonly meshConfig?: MeshConfig;
}

export interface LoopbackMesh {
  readonly cp: RunningControlPlane;
  /** In the order of `pods`. */
  readonly sidecars: Sidecar[];
  stop(): Promise<void>;
}

export async function startLoopbackMesh(o: LoopbackMeshOptions): Promise<LoopbackMesh> {
  const cp = await startControlPlane({
    configDir: o.configDir,
    xdsAddr: '127.0.0.1:0',
    httpAddr: '127.0.0.1:0',
    settleMs: 20,
    debounceMs: 20,
    logLevel: 'none',
    ...(o.meshConfig ? { meshConfig: o.meshConfig } : {}),
  });
  const [host, port] = cp.xdsAddress.split(':') as [string, string];
  const sidecars: Sidecar[] = [];
  const stop = async (): Promise<void> => {
    for (const s of sidecars) await s.stop();
    await cp.stop();
  };
  try {
    for (const [name, ip] of o.pods)
      sidecars.push(
        await startSidecar({
          name,
          namespace: o.namespace,
          ip,
          labels: { app: name },
          xds: { host, port: Number(port) },
          dir: o.dir,
        }),
      );
  } catch (e) {
    await stop();
    throw e;
  }
  return { cp, sidecars, stop };
}
