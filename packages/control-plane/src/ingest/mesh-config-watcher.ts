// Watches the --mesh-config file (its directory, so atomic replaces are seen) and hands every
// new valid MeshConfig to the caller; an unreadable or invalid file keeps the previous config.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { MeshConfig } from '../model/mesh-config.js';
import { readMeshConfig } from './mesh-config-file.js';

export function watchMeshConfig(
  file: string,
  onConfig: (mesh: MeshConfig) => void,
  onError: (err: unknown) => void,
  settleMs = 100,
): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  const reload = (): void => {
    readMeshConfig(file).then((mesh) => {
      const text = JSON.stringify(mesh);
      if (text === last) return;
      last = text;
      onConfig(mesh);
    }, onError);
  };
  void readMeshConfig(file).then(
    (m) => (last = JSON.stringify(m)),
    () => undefined,
  );
  const watcher: FSWatcher = watch(dirname(file), (_event, name) => {
    if (name !== null && name !== basename(file)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, settleMs);
  });
  watcher.on('error', onError);
  return {
    close: () => {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
