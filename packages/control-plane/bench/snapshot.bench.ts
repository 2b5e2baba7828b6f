// The snapshot rebuild alone, in process: the benchmark's 4000 objects (1000 ServiceEntries, 2000
// WorkloadEntries, 1000 VirtualServices), then 40 VirtualService edits and 40 added
// WorkloadEntries, each rebuilt from scratch and from the previous snapshot, interleaved; prints
// the median milliseconds per rebuild. After `nx run control-plane:build`:
// bash scripts/run.sh node packages/control-plane/bench/snapshot.bench.ts
import { parse } from 'yaml';
import type { ConfigObject } from '../src/model/istio-types.ts';
import { buildSnapshot, type Snapshot } from '../dist/model/snapshot.js';
import { DEFAULT_MESH_CONFIG } from '../dist/model/mesh-config.js';
import { proxies, serviceYaml, virtualServiceYaml, workloadYaml } from './workload.ts';

const objects = [
  ...Array.from({ length: 1000 }, (_, i) => serviceYaml(i)),
  ...proxies(1000, 2000).map((p) => workloadYaml(p)),
  ...Array.from({ length: 1000 }, (_, i) => virtualServiceYaml(i, 100)),
].map((y) => parse(y) as ConfigObject);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const times = {
  fresh: { vs: [] as number[], ep: [] as number[] },
  incremental: { vs: [] as number[], ep: [] as number[] },
};
for (let round = 0; round < 6; round++)
  for (const mode of ['fresh', 'incremental'] as const) {
    let prev: Snapshot = buildSnapshot({ version: '0', mesh: DEFAULT_MESH_CONFIG, objects });
    const list = [...objects];
    for (let i = 0; i < 40; i++) {
      const rebuild = (): number => {
        const t = performance.now();
        prev = buildSnapshot(
          { version: `${round}.${i}.${list.length}`, mesh: DEFAULT_MESH_CONFIG, objects: list },
          mode === 'incremental' ? prev : undefined,
        );
        return performance.now() - t;
      };
      list[3000] = parse(virtualServiceYaml(0, 90 - (i % 8) * 10)) as ConfigObject;
      times[mode].vs.push(rebuild());
      list.push(
        parse(
          `apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: { name: extra-${i}, namespace: ns-0 }\nspec: { address: 10.200.0.${i + 1}, labels: { app: svc-0, version: v3 } }\n`,
        ) as ConfigObject,
      );
      times[mode].ep.push(rebuild());
    }
  }
for (const [mode, t] of Object.entries(times))
  console.log(
    `${mode.padEnd(12)} VirtualService edit ${median(t.vs).toFixed(2)} ms, WorkloadEntry added ${median(t.ep).toFixed(2)} ms (median of ${t.vs.length})`,
  );
