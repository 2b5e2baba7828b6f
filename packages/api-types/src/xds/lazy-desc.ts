// Lazily built protobuf descriptors: the generated files wrap every `fileDesc`/`messageDesc`/...
// call in `lazyDesc`, so importing @skein/api-types decodes no descriptor; each one is built (with
// the files it depends on) the first time anything reads it, then reused until
// `releaseDescriptors()` drops every built one (they are rebuilt on their next use).

/** Descriptors built so far (a file counts once, however many of its messages are used). */
let built = 0;

/** The built object of every lazy descriptor (one cell each), so they can all be dropped at once. */
const cells: { real: object | undefined }[] = [];
const releaseHooks: (() => void)[] = [];

/**
 * Drops every built descriptor (and the caches registered with `onDescriptorsReleased`), so a
 * garbage collection can free them: a process that decoded its configuration at start and has no
 * more to decode for a while need not keep ~4 MB of descriptor objects. Each is rebuilt, with the
 * files it depends on, the next time anything reads it. Returns how many were dropped.
 */
export function releaseDescriptors(): number {
  let n = 0;
  for (const c of cells) {
    if (c.real !== undefined) n++;
    c.real = undefined;
  }
  for (const h of releaseHooks) h();
  return n;
}

/** Registers a cache of built descriptors (a registry's) to clear in `releaseDescriptors`. */
export function onDescriptorsReleased(hook: () => void): void {
  releaseHooks.push(hook);
}

/** How many descriptors `lazyDesc` has built in this process (for tests and memory checks). */
export function lazyDescriptorsBuilt(): number {
  return built;
}

/**
 * A stand-in for the object `build` returns, built on first property access. It behaves as that
 * object for reads, `in`, key listing and `instanceof`; identity differs (`===` with the built
 * object is false), which @bufbuild/protobuf never relies on (it compares type names).
 */
export function lazyDesc<T extends object>(build: () => T): T {
  const cell: { real: T | undefined } = { real: undefined };
  cells.push(cell);
  const get = (): T => {
    let real = cell.real;
    if (real === undefined) {
      real = cell.real = build();
      built++;
    }
    return real;
  };
  return new Proxy({} as T, {
    get: (_t, p) => Reflect.get(get(), p),
    has: (_t, p) => Reflect.has(get(), p),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_t, p) => {
      const d = Reflect.getOwnPropertyDescriptor(get(), p);
      // A proxy may not report a non-configurable property its (empty) target lacks.
      return d && { ...d, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(get()),
    set: (_t, p, v) => Reflect.set(get(), p, v),
    defineProperty: (_t, p, d) => Reflect.defineProperty(get(), p, d),
    deleteProperty: (_t, p) => Reflect.deleteProperty(get(), p),
  });
}
