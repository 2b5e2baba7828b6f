// The directory source (`--config-dir`): every *.yaml / *.yml / *.json file under a directory,
// multi-document, watched for create / edit / delete / rename. A file is read only after it has
// been quiet for the settle period, and a file that does not parse keeps its previous objects,
// so a half-written file is never applied. A scan after watch events looks only at the entries
// the events named; the first scan, events without a name, a new or removed directory, a watcher
// error, a burst naming many entries and the periodic resync look at everything. While named
// files settle they are read and parsed ahead and `onPreview` is told what they would bring
// (nothing is applied before they settled); the store is then handed only the keys they held or
// hold (published-objects.ts). One file: the watch, the scans and the read-ahead share its state.
import { lstatSync, readFileSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { ConfigObject } from '../model/istio-types.js';
import type { ConfigStore } from './config-store.js';
import { mergeObjects, PublishedObjects } from './published-objects.js';
import type { Problem, Validator } from './validation.js';
import { parseDocuments } from './yaml-documents.js';

export interface DirectorySourceOptions {
  readonly dir: string;
  readonly store: ConfigStore;
  readonly validate: Validator;
  /** Called for every rejected object or unreadable document (and for warnings). */
  readonly onProblem: (p: Problem) => void;
  /** A file must be unmodified this long before it is read (ms). */
  readonly settleMs?: number | undefined;
  /** Full rescans at this period even without events (ms; 0 disables). */
  readonly resyncMs?: number | undefined;
  readonly now?: (() => number) | undefined;
  /** Called after every scan that completed (for tests and readiness): whether it looked at every
   * file or only at those watch events named. */
  readonly onScan?: ((generation: number, looked: 'all' | 'named') => void) | undefined;
  /**
   * Told, while the settle period of watch-named files runs, of every object the source would
   * hand the store if those files stay as they are now (read and parsed ahead; nothing applied):
   * the listener may prepare for that state (control-plane builds the snapshot). The scan that
   * reads the files settled reuses the parse when their text is still the same.
   */
  readonly onPreview?: ((objects: readonly ConfigObject[]) => void) | undefined;
  /** Called at a watch event, when a scan starts and when its files are parsed (`--trace-push`). */
  readonly onStage?: ((stage: 'fileEvent' | 'scanStart' | 'parsed') => void) | undefined;
}

/** A file stamped more recently than this is re-read even when its stamp looks unchanged. */
const RECENT_MS = 2000;

/** Past this many entries named by events before a scan, a full scan is cheaper. */
const MAX_NAMED = 256;

/**
 * Files larger than this are not read ahead: a large file written in chunks raises an event per
 * chunk, and parsing each partial text would cost more than the read-ahead saves.
 */
const MAX_PREVIEW_BYTES = 64 * 1024;

/** A file's text parsed: its valid objects (undefined when it does not parse as YAML), the
 * problems of its documents, and the YAML error that made it unparseable. */
interface Parsed {
  readonly objects: ConfigObject[] | undefined;
  readonly problems: Problem[];
  readonly broken?: Problem | undefined;
}

interface FileState {
  mtimeMs: number;
  size: number;
  /** The inode: an atomic save (write elsewhere, rename over) makes a new one. */
  ino?: number;
  text: string;
  objects: ConfigObject[];
  problems: Problem[];
}

const CONFIG_FILE = /\.(ya?ml|json)$/;

export class DirectorySource {
  private readonly files = new Map<string, FileState>();
  /** One non-recursive watcher per directory: inotify on a directory sees creates, writes,
   * deletes and renames of its entries (Node's recursive mode on Linux loses track of a file
   * replaced by rename, which is how editors and atomic writers save). */
  private readonly watchers = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private scans = 0;
  private stopped = false;
  /** Entries named by watch events since the last scan started, or 'all' for a full scan. */
  private dirty: Set<string> | 'all' = 'all';
  /** The latest watch event since the last scan started (the push debounce counts from it). */
  private lastEventAt: number | undefined;
  /** What the store was handed, indexed by key (see published-objects.ts). */
  private readonly published: PublishedObjects;
  /** Files whose objects changed since the last publish, with their objects as published then. */
  private changedFiles = new Map<string, readonly ConfigObject[]>();
  /** Named files read and parsed during their settle period, by path (see `onPreview`). */
  private readonly early = new Map<string, { text: string; parsed: Parsed }>();
  private previewing: NodeJS.Immediate | undefined;
  readonly id: string;

  constructor(private readonly opts: DirectorySourceOptions) {
    this.id = `dir:${opts.dir}`;
    this.published = new PublishedObjects((p) => relative(opts.dir, p));
  }

  /** Reads the directory once and starts watching it. */
  async start(): Promise<void> {
    this.opts.store.addSource(this.id);
    this.watchDir(this.opts.dir);
    await this.scan(true);
    const every = this.opts.resyncMs ?? 30_000;
    if (every > 0)
      this.resync = setInterval(() => {
        this.dirty = 'all';
        this.schedule();
      }, every).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    if (this.timer) clearTimeout(this.timer);
    if (this.resync) clearInterval(this.resync);
    if (this.previewing) clearImmediate(this.previewing);
    await this.scanning;
  }

  /** The problems of every file as last read (parse errors, rejected objects, duplicates). */
  problems(): Problem[] {
    return [...this.files.values()].flatMap((f) => f.problems).concat(this.duplicates);
  }

  private duplicates: Problem[] = [];

  /** Number of completed scans. */
  get generation(): number {
    return this.scans;
  }

  private watchDir(dir: string): void {
    if (this.watchers.has(dir) || this.stopped) return;
    try {
      const w = watch(dir, (_event, name) => {
        this.opts.onStage?.('fileEvent');
        this.lastEventAt = (this.opts.now ?? Date.now)();
        this.note(name ? join(dir, name) : undefined);
        this.schedule();
        // Events come in bursts (write, rename): look ahead once they are handled.
        if (this.opts.onPreview) this.previewing ??= setImmediate(() => this.preview());
      });
      w.on('error', () => {
        w.close();
        this.watchers.delete(dir);
        this.note(undefined);
        this.schedule();
      });
      this.watchers.set(dir, w);
    } catch {
      // gone already: the next scan notices
    }
  }

  /** Remembers an entry for the next scan; undefined (unnamed event, error) asks for a full one. */
  private note(path: string | undefined): void {
    if (this.dirty === 'all') return;
    if (path === undefined || this.dirty.size >= MAX_NAMED) this.dirty = 'all';
    else this.dirty.add(path);
  }

  private get settleMs(): number {
    return this.opts.settleMs ?? 100;
  }

  private schedule(delay = this.settleMs): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.scan();
    }, delay);
  }

  /** One full pass; concurrent requests coalesce into one more pass. */
  scan(initial = false): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = this.scanOnce(initial)
      .catch((err: unknown) => {
        this.opts.onProblem({
          object: this.opts.dir,
          path: '',
          reason: `scan failed: ${String(err)}`,
          severity: 'error',
        });
      })
      .finally(() => {
        this.scanning = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.scan();
        }
      });
    return this.scanning;
  }

  /** The initial scan reads every file at once (start-up has no writer to race with). */
  private async scanOnce(initial: boolean): Promise<void> {
    this.opts.onStage?.('scanStart');
    const now = this.opts.now ?? Date.now;
    const observedAt = this.lastEventAt ?? now();
    this.lastEventAt = undefined;
    const named = this.dirty;
    this.dirty = new Set();
    const outcome: ScanOutcome = { changed: false, unsettled: [] };
    const done = !initial && named !== 'all' && this.scanNamed(named, outcome);
    if (!done) await this.scanAll(initial, outcome);
    this.opts.onStage?.('parsed');
    this.early.clear(); // read ahead for this scan; a later scan looks again
    this.told = undefined;
    if (outcome.changed || initial) this.publish(observedAt, done);
    this.scans++;
    this.opts.onScan?.(this.scans, done ? 'named' : 'all');
    if (outcome.unsettled.length > 0) {
      for (const p of outcome.unsettled) this.note(p);
      // The entries still being written were observed at this scan's stamp (unless newer events
      // came since): the scan that reads them settled carries it, not the time it runs.
      this.lastEventAt ??= observedAt;
      this.schedule();
    }
  }

  /** Looks at every file under the directory (and watches new subdirectories). */
  private async scanAll(initial: boolean, outcome: ScanOutcome): Promise<void> {
    const { files: paths, dirs } = await listConfigFiles(this.opts.dir);
    // A directory seen for the first time may have received files before its watcher existed:
    // look again once the watcher is in place.
    const fresh = dirs.filter((d) => !this.watchers.has(d));
    for (const d of fresh) this.watchDir(d);
    if (fresh.length > 0 && this.scans > 0) {
      this.note(undefined);
      this.schedule();
    }
    for (const [d, w] of this.watchers)
      if (d !== this.opts.dir && !dirs.includes(d)) {
        w.close();
        this.watchers.delete(d);
      }
    outcome.unsettled = [];
    const seen = new Set<string>();
    for (const path of paths) {
      seen.add(path);
      let st;
      try {
        st = await stat(path);
      } catch {
        continue; // removed while we looked
      }
      await this.readOne(path, st, initial, outcome);
    }
    for (const path of [...this.files.keys()])
      if (!seen.has(path)) {
        this.changing(path);
        this.files.delete(path);
        outcome.changed = true;
      }
  }

  /**
   * Looks only at the entries watch events named; false when one of them is (or was) a
   * directory, which takes a full scan. These few entries are read synchronously: a stat and a
   * read of a small file take microseconds, where each asynchronous step (lstat, open, fstat,
   * read, close) waits for a thread-pool round trip and an event-loop turn (milliseconds under
   * load, all before the change can be pushed).
   */
  private scanNamed(named: ReadonlySet<string>, outcome: ScanOutcome): boolean {
    for (const path of [...named].sort()) {
      if (this.watchers.has(path)) return false; // a watched directory went or was replaced
      let st: Stats | undefined;
      try {
        st = lstatSync(path);
      } catch {
        st = undefined; // gone (deleted or renamed away)
      }
      if (st?.isDirectory()) return false;
      const config = st?.isFile() === true && !basename(path).startsWith('.') && CONFIG_FILE.test(path);
      if (!st || !config) {
        if (this.files.has(path)) {
          this.changing(path);
          this.files.delete(path);
          outcome.changed = true;
        }
        continue;
      }
      if (!this.wants(path, st, false, outcome)) continue;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        continue;
      }
      this.apply(path, st, text, outcome);
    }
    return true;
  }

  /** Reads one file if its stamp says it may have changed and it has settled. */
  private async readOne(path: string, st: Stats, initial: boolean, outcome: ScanOutcome): Promise<void> {
    if (!this.wants(path, st, initial, outcome)) return;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return;
    }
    this.apply(path, st, text, outcome);
  }

  /** Whether a file must be read: its stamp says it may have changed and it has settled. */
  private wants(path: string, st: Stats, initial: boolean, outcome: ScanOutcome): boolean {
    const now = this.opts.now ?? Date.now;
    const prev = this.files.get(path);
    // File times tick coarsely (a jiffy): two same-sized saves within one tick share a stamp,
    // so a stamp that recent proves nothing and the text is compared instead.
    const stampTrusted = now() - st.mtimeMs > RECENT_MS;
    if (prev && stampTrusted && prev.mtimeMs === st.mtimeMs && prev.size === st.size && prev.ino === st.ino)
      return false;
    if (!initial && now() - st.mtimeMs < this.settleMs) {
      outcome.unsettled.push(path); // still being written: look again after it settles
      return false;
    }
    return true;
  }

  /** Takes a file's text: parsed into its objects unless it is what the file held already. */
  private apply(path: string, st: Stats, text: string, outcome: ScanOutcome): void {
    const prev = this.files.get(path);
    const stamp = { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino };
    if (prev && prev.text === text) {
      this.files.set(path, { ...prev, ...stamp });
      return;
    }
    const early = this.early.get(path);
    const { objects, problems, broken } = early?.text === text ? early.parsed : this.parseFile(path, text);
    if (broken) this.opts.onProblem(broken);
    for (const p of problems) this.opts.onProblem(p);
    // Unparseable: keep what the file held before; remember the stamp so we wait for the next edit.
    if (objects === undefined)
      this.files.set(path, { ...(prev ?? { text, objects: [] }), ...stamp, problems });
    else {
      this.changing(path);
      this.files.set(path, { ...stamp, text, objects, problems });
      outcome.changed = true;
    }
  }

  /** The file's valid objects and problems (nothing reported here: the caller reports them). */
  private parseFile(path: string, text: string): Parsed {
    const rel = relative(this.opts.dir, path);
    const docs = parseDocuments(text);
    const broken = docs.find((d) => !d.ok);
    const problems: Problem[] = [];
    if (broken && !broken.ok)
      return {
        objects: undefined,
        problems,
        broken: {
          object: rel,
          path: `document ${broken.index}`,
          reason: `YAML: ${broken.error}`,
          severity: 'error',
        },
      };
    const objects: ConfigObject[] = [];
    for (const d of docs) {
      if (!d.ok) continue;
      const v = this.opts.validate(d.value);
      if (!v.ok) {
        for (const p of v.problems) problems.push({ ...p, object: `${p.object} (${rel})` });
        continue;
      }
      for (const w of v.warnings) problems.push(w);
      const meta = v.object.metadata;
      objects.push(meta.namespace ? v.object : { ...v.object, metadata: { ...meta, namespace: 'default' } });
    }
    return { objects, problems };
  }

  /**
   * Reads and parses the files watch events named so far, without applying anything, and tells
   * `onPreview` what the source would publish if they stay so. Any doubt (a directory, a full scan
   * pending, a scan running) and it does nothing: the scan after the settle period decides alone.
   */
  private preview(): void {
    this.previewing = undefined;
    const named = this.dirty;
    const onPreview = this.opts.onPreview;
    if (!onPreview || named === 'all' || named.size === 0 || this.scanning || this.stopped) return;
    const replaced = new Map<string, ConfigObject[]>();
    for (const path of named) {
      if (this.watchers.has(path)) return;
      let st: Stats | undefined;
      try {
        st = lstatSync(path);
      } catch {
        st = undefined;
      }
      if (st?.isDirectory()) return;
      const config = st?.isFile() === true && !basename(path).startsWith('.') && CONFIG_FILE.test(path);
      if (!st || !config) {
        if (this.files.has(path)) replaced.set(path, []);
        continue;
      }
      if (st.size > MAX_PREVIEW_BYTES) return;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return;
      }
      const prev = this.files.get(path);
      if (prev?.text === text) continue;
      const known = this.early.get(path);
      const parsed = known?.text === text ? known.parsed : this.parseFile(path, text);
      this.early.set(path, { text, parsed });
      // Unparseable (perhaps half-written): the file would keep what it held.
      replaced.set(path, parsed.objects ?? prev?.objects ?? []);
    }
    if (replaced.size === 0) return;
    const paths = new Set([...this.files.keys(), ...replaced.keys()]);
    const { objects: all } = mergeObjects(
      [...paths].sort(),
      (p) => replaced.get(p) ?? this.files.get(p)?.objects ?? [],
      (p) => relative(this.opts.dir, p),
    );
    const told = this.told;
    if (told?.length === all.length && all.every((o, i) => o === told[i])) return; // told already
    this.told = all;
    onPreview(all);
  }

  /** What `onPreview` was last told (until the next scan). */
  private told: readonly ConfigObject[] | undefined;

  /**
   * Hands the store the objects: after a scan of the files watch events named, only the keys those
   * files held or hold (a multi-document file, a renamed or deleted file, duplicates across files
   * all merged as in a full merge); otherwise every object.
   */
  private publish(observedAt: number, named: boolean): void {
    const changed = this.changedFiles;
    this.changedFiles = new Map();
    const objectsOf = (p: string): readonly ConfigObject[] => this.files.get(p)?.objects ?? [];
    const update = named ? this.published.update(changed, objectsOf) : undefined;
    if (update) {
      if (update.duplicates) this.takeDuplicates(update.duplicates);
      if (update.upserts.length > 0 || update.removed.length > 0)
        this.opts.store.apply(this.id, update.upserts, update.removed, observedAt);
      return;
    }
    const { objects, duplicates } = this.published.all([...this.files.keys()].sort(), objectsOf);
    this.takeDuplicates(duplicates);
    this.opts.store.replace(this.id, objects, observedAt);
  }

  /** The duplicates now: those not known before are reported. */
  private takeDuplicates(duplicates: Problem[]): void {
    const fresh = duplicates.filter(
      (d) => !this.duplicates.some((x) => x.reason === d.reason && x.object === d.object),
    );
    for (const d of fresh) this.opts.onProblem(d);
    this.duplicates = duplicates;
  }

  /** Notes that a file's objects change (or it goes), with its objects as last published. */
  private changing(path: string): void {
    if (!this.changedFiles.has(path)) this.changedFiles.set(path, this.files.get(path)?.objects ?? []);
  }
}

interface ScanOutcome {
  /** Some file's objects changed, or a file went. */
  changed: boolean;
  /** Files still being written, to look at again once they settle. */
  unsettled: string[];
}

async function listConfigFiles(dir: string): Promise<{ files: string[]; dirs: string[] }> {
  const files: string[] = [];
  const dirs: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return { files, dirs };
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory()) dirs.push(join(e.parentPath, e.name));
    else if (e.isFile() && CONFIG_FILE.test(e.name)) files.push(join(e.parentPath, e.name));
  }
  return { files: files.sort(), dirs };
}
