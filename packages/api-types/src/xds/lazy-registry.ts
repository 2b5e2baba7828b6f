// A protobuf Registry over the generated files that builds a file's descriptors only when one of
// its types is looked up (by name, e.g. unpacking a google.protobuf.Any by type URL).
import {
  createRegistry,
  type DescEnum,
  type DescExtension,
  type DescFile,
  type DescMessage,
  type DescService,
  type Registry,
} from '@bufbuild/protobuf';
import { onDescriptorsReleased } from './lazy-desc.js';

type AnyDesc = DescMessage | DescEnum | DescExtension | DescService;

/**
 * `eager`: files already built (the well-known types); `files`: the generated (lazy) files;
 * `typeIndex`: fully qualified message/enum/service name → index in `files`; `extensionFiles`:
 * indices of the files that declare extensions (built when an extension is looked up).
 */
export function lazyRegistry(
  eager: DescFile[],
  files: DescFile[],
  typeIndex: Readonly<Record<string, number>>,
  extensionFiles: readonly number[],
): Registry {
  const base = createRegistry(...eager);
  const perFile = new Map<number, Registry>();
  onDescriptorsReleased(() => perFile.clear());
  const fileRegistry = (i: number): Registry | undefined => {
    let r = perFile.get(i);
    if (r === undefined) {
      const f = files[i];
      if (f === undefined) return undefined;
      r = createRegistry(f);
      perFile.set(i, r);
    }
    return r;
  };
  const lookup = (name: string): AnyDesc | undefined => {
    const hit = base.get(name);
    if (hit) return hit;
    const i = typeIndex[name];
    if (i !== undefined) return fileRegistry(i)?.get(name);
    for (const e of extensionFiles) {
      const ext = fileRegistry(e)?.getExtension(name);
      if (ext) return ext;
    }
    return undefined;
  };
  const all = (): AnyDesc[] => {
    const out: AnyDesc[] = [...base];
    for (let i = 0; i < files.length; i++) out.push(...(fileRegistry(i) ?? []));
    return out;
  };
  return {
    kind: 'registry',
    [Symbol.iterator]: () => all()[Symbol.iterator](),
    get: lookup,
    getMessage: (name) => {
      const d = lookup(name);
      return d?.kind === 'message' ? d : undefined;
    },
    getEnum: (name) => {
      const d = lookup(name);
      return d?.kind === 'enum' ? d : undefined;
    },
    getService: (name) => {
      const d = lookup(name);
      return d?.kind === 'service' ? d : undefined;
    },
    getExtension: (name) => {
      const d = base.getExtension(name);
      if (d) return d;
      for (const e of extensionFiles) {
        const ext = fileRegistry(e)?.getExtension(name);
        if (ext) return ext;
      }
      return undefined;
    },
    getExtensionFor: (extendee, no) => {
      const d = base.getExtensionFor(extendee, no);
      if (d) return d;
      for (const e of extensionFiles) {
        const ext = fileRegistry(e)?.getExtensionFor(extendee, no);
        if (ext) return ext;
      }
      return undefined;
    },
  };
}
