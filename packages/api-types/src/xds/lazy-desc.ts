// Lazily built protobuf descriptors: the generated files wrap every `fileDesc`/`messageDesc`/...
// call in `lazyDesc`, so importing @skein/api-types decodes no descriptor; each one is built (with
// the files it depends on) the first time anything reads it, then reused.

/** Descriptors built so far (a file counts once, however many of its messages are used). */
let built = 0;

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
  let real: T | undefined;
  const get = (): T => {
    if (real === undefined) {
      real = build();
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
