// A preload for measuring what skeind allocates per change (SKEIND_NODE_OPTIONS="--import
// .../bench/heap-sample.mjs", HEAP_SAMPLE_DIR=D): SIGUSR2 starts V8's sampling heap profiler with
// objects already collected by minor and major GCs included (so the samples are everything
// allocated, not what survives), and SIGTERM writes D/<pid>.heapprofile before skeind exits.
// Send SIGUSR2 once the clients hold full config; bench/heap-profile-summary.mjs reads the file.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
let sampling = false;

process.on('SIGUSR2', () => {
  if (sampling) return;
  sampling = true;
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 8192,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
});

process.prependListener('SIGTERM', () => {
  if (!sampling) return;
  // The in-thread session answers synchronously: the file is written before skeind's own handler.
  session.post('HeapProfiler.stopSampling', (err, result) => {
    if (err) return;
    const dir = process.env['HEAP_SAMPLE_DIR'] ?? '.';
    writeFileSync(`${dir}/${process.pid}.heapprofile`, JSON.stringify(result.profile));
  });
});
