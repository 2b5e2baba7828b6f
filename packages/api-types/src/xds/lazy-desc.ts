// Lazily built protobuf descriptors: the generated files wrap every `fileDesc`/`messageDesc`/...
// call in `lazyDesc`, so importing @skein/api-types decodes no descriptor; each one is built (with
// the files it depends on) the first time anything reads it, then reused until
// `releaseDescriptors()` drops every built one (they are rebuilt on their next use).

/** Descriptors built so far (a file counts once, however many of its messages are used). */
let built = 0;

/** The built object of every lazy descriptor (one cell each), so they can all be dropped at once. */
const cells: Cell[] = [];
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

/** Asks a lazy stand-in for its built object (a symbol no real descriptor has). */
const REAL = Symbol('lazyDesc.real');

/**
 * The built object behind a `lazyDesc` stand-in (building it if needed), or `d` itself when it is
 * not one. Pass this, not the stand-in, to @bufbuild/protobuf's fromJson/toJson/fromBinary/
 * toBinary: they cache a compiled reader or writer per descriptor in a WeakMap, and a stand-in
 * (a module export, alive forever) as the key would keep the whole built descriptor graph alive
 * through `releaseDescriptors()`.
 */
export function realDesc<T extends object>(d: T): T {
  return ((d as Record<symbol, unknown>)[REAL] as T | undefined) ?? d;
}

/**
 * A stand-in for the object `build` returns, built on first property access. It behaves as that
 * object for reads, `in`, key listing and `instanceof`; identity differs (`===` with the built
 * object is false), which @bufbuild/protobuf never relies on (it compares type names).
 */
export function lazyDesc<T extends object>(build: () => T): T {
  const cell: Cell = { real: undefined, build };
  cells.push(cell);
  // The cell is the proxy's target, so one handler serves every lazy descriptor.
  return new Proxy(cell, handler) as unknown as T;
}

interface Cell {
  real: object | undefined;
  build: () => object;
}

function realOf(cell: Cell): object {
  let real = cell.real;
  if (real === undefined) {
    real = cell.real = cell.build();
    built++;
  }
  return real;
}

const handler: ProxyHandler<Cell> = {
  get: (c, p) => (p === REAL ? realOf(c) : (Reflect.get(realOf(c), p) as unknown)),
  has: (c, p) => Reflect.has(realOf(c), p),
  ownKeys: (c) => Reflect.ownKeys(realOf(c)),
  getOwnPropertyDescriptor: (c, p) => {
    const d = Reflect.getOwnPropertyDescriptor(realOf(c), p);
    // A proxy may not report a non-configurable property its target (the cell) lacks.
    return d && { ...d, configurable: true };
  },
  getPrototypeOf: (c) => Reflect.getPrototypeOf(realOf(c)),
  set: (c, p, v) => Reflect.set(realOf(c), p, v),
  defineProperty: (c, p, d) => Reflect.defineProperty(realOf(c), p, d),
  deleteProperty: (c, p) => Reflect.deleteProperty(realOf(c), p),
};
