// PEM bundle helpers: splitting and joining certificate chains.

/** Every PEM block of a bundle, each ending in a newline. */
export function splitPem(bundle: string): string[] {
  return [...bundle.matchAll(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g)].map((m) => `${m[0]}\n`);
}

export function normalizePem(pem: string): string {
  const blocks = splitPem(pem);
  if (blocks.length !== 1) throw new Error(`expected one PEM block, found ${blocks.length}`);
  return blocks[0]!;
}

/** One bundle of distinct certificates, in order (duplicates and blank text dropped). */
export function trustBundlePem(pems: readonly string[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const block of pems.flatMap((p) => splitPem(p))) {
    const key = block.replace(/\s+/g, '');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(block);
  }
  return out.join('');
}
