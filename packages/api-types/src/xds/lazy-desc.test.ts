import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { fromJson } from '@bufbuild/protobuf';
import { ClusterSchema } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { messageFromJson, messageToJson } from './codec.js';
import { realDesc, releaseDescriptors } from './lazy-desc.js';

/** A full collection (the `gc` of a fresh context made while --expose-gc is briefly on). */
function collect(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  v8.setFlagsFromString('--no-expose-gc');
  gc();
}

/** Builds the descriptor, runs `use` on it, releases, and reports whether the built one survived. */
async function survivesRelease(use: () => void): Promise<boolean> {
  const ref = new WeakRef(realDesc(ClusterSchema));
  use();
  releaseDescriptors();
  // A WeakRef target is kept until the current job ends, and one full collection does not always
  // clear it (a fresh-clone CI run once saw it survive one): up to three, each in its own job.
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 0));
    collect();
    if (ref.deref() === undefined) return false;
  }
  return true;
}

describe('realDesc', () => {
  it('is the built descriptor behind a stand-in and the object itself otherwise', () => {
    const real = realDesc(ClusterSchema);
    expect(real).not.toBe(ClusterSchema);
    expect(real.typeName).toBe('envoy.config.cluster.v3.Cluster');
    expect(realDesc(real)).toBe(real);
  });

  it('lets releaseDescriptors free what the codec built (no compiled reader keyed on a stand-in)', async () => {
    const json = { name: 'c', connectTimeout: '1s' };
    expect(
      await survivesRelease(() =>
        expect(messageToJson(ClusterSchema, messageFromJson(ClusterSchema, json))).toEqual(json),
      ),
    ).toBe(false);
  });

  it('(the leak it avoids: the library given the stand-in keeps the built graph alive)', async () => {
    expect(await survivesRelease(() => fromJson(ClusterSchema, { name: 'c' }))).toBe(true);
  });
});
