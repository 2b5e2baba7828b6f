// A snapshot built ahead of its change: while a directory change settles, the snapshot of the
// configuration it would bring is built from the files as they are (ingest's `onPreview`), and the
// change takes it instead of building one once it is applied — when the applied objects, the
// snapshot it replaces and the version are exactly those it was built for. Anything else in
// between (the file changed again, another source or the mesh config changed) discards it.
import type { ConfigObject } from './istio-types.js';
import type { Snapshot } from './snapshot.js';

export class SnapshotAhead {
  private ahead:
    { version: string; from: Snapshot; objects: readonly ConfigObject[]; snapshot: Snapshot } | undefined;

  /** Builds (with `build`), keeps and returns the snapshot for `objects` at `version`, replacing `from`. */
  prepare(
    version: string,
    from: Snapshot,
    objects: readonly ConfigObject[],
    build: (objects: readonly ConfigObject[]) => Snapshot,
  ): Snapshot {
    this.ahead = undefined;
    const snapshot = build(objects);
    this.ahead = { version, from, objects, snapshot };
    return snapshot;
  }

  /**
   * The snapshot built ahead when it was built for this `version`, replacing `from`, from these
   * very objects (in this order); undefined otherwise. Either way it is gone afterwards.
   */
  take(version: string, from: Snapshot, objects: readonly ConfigObject[]): Snapshot | undefined {
    const a = this.ahead;
    this.ahead = undefined;
    if (!a || a.from !== from || a.version !== version || a.objects.length !== objects.length)
      return undefined;
    for (let i = 0; i < objects.length; i++) if (objects[i] !== a.objects[i]) return undefined;
    return a.snapshot;
  }
}
