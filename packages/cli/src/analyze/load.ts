// Reads the files analyze is pointed at: YAML files, or directories of them (recursively).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceText } from './analyze.js';

const yamlFile = /\.(ya?ml|json)$/i;

export function loadSources(paths: readonly string[]): SourceText[] {
  const out: SourceText[] = [];
  const visit = (p: string, explicit: boolean) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) visit(join(p, e), false);
    } else if (explicit || yamlFile.test(p)) {
      out.push({ name: p, text: readFileSync(p, 'utf8') });
    }
  };
  for (const p of paths) visit(p, true);
  return out;
}
