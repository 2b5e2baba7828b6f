// A describe block's loopback mesh: a temporary config directory, whatever the test starts before
// skeind (config files, the app), startLoopbackMesh, and the teardown of all of it, registered as
// the block's beforeAll / afterAll.
import { afterAll, beforeAll } from 'vitest';
import { testConfigDir, type TestConfigDir } from './config-dir.js';
import { startLoopbackMesh, type LoopbackMesh, type LoopbackMeshOptions } from './loopback-mesh.js';
import type { Sidecar } from './sidecar-proxy.js';

/** Anything closed with a callback, as `net.Server` and `http.Server` are. */
export interface Closable {
  close(callback: () => void): unknown;
}

export type MeshOptions = Omit<LoopbackMeshOptions, 'configDir' | 'dir'>;

export interface MeshFixture extends Pick<TestConfigDir, 'dir' | 'configDir' | 'write'> {
  /** skeind and the sidecars; throws before the block's beforeAll has run. */
  readonly mesh: LoopbackMesh;
  /** In the order of the options' `pods`, then `routers`. */
  readonly sidecars: Sidecar[];
}

export function useLoopbackMesh(
  prefix: string,
  o: {
    /** Runs first: write config files, start apps (what it returns is closed after the mesh stops). */
    readonly before?: (dir: TestConfigDir) => Promise<readonly Closable[]> | readonly Closable[] | void;
    readonly mesh: MeshOptions | ((dir: TestConfigDir) => MeshOptions);
    readonly timeoutMs?: number;
  },
): MeshFixture {
  const dir = testConfigDir(prefix);
  let mesh: LoopbackMesh | undefined;
  const closables: Closable[] = [];
  beforeAll(async () => {
    closables.push(...((await o.before?.(dir)) ?? []));
    const options = typeof o.mesh === 'function' ? o.mesh(dir) : o.mesh;
    mesh = await startLoopbackMesh({ ...options, configDir: dir.configDir, dir: dir.dir });
  }, o.timeoutMs ?? 150_000);
  afterAll(async () => {
    await mesh?.stop();
    for (const c of closables) await new Promise<void>((r) => c.close(() => r()));
    dir.remove();
  });
  return {
    dir: dir.dir,
    configDir: dir.configDir,
    write: dir.write,
    get mesh(): LoopbackMesh {
      if (!mesh) throw new Error('the mesh is not started yet (beforeAll)');
      return mesh;
    },
    get sidecars(): Sidecar[] {
      return this.mesh.sidecars;
    },
  };
}

/** Listens on `ip:port` and resolves with the server once it is bound. */
export function listening<S extends { listen(port: number, host: string, cb: () => void): unknown }>(
  server: S,
  ip: string,
  port: number,
): Promise<S> {
  return new Promise((resolve) => server.listen(port, ip, () => resolve(server)));
}
