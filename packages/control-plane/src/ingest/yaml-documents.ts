// Multi-document YAML (and JSON) parsing for config files: each document separately, so one
// broken document is reported by position while its neighbours still load.
import { parseAllDocuments } from 'yaml';

export type ParsedDocument =
  { ok: true; index: number; value: unknown } | { ok: false; index: number; error: string };

export function parseDocuments(text: string): ParsedDocument[] {
  const out: ParsedDocument[] = [];
  parseAllDocuments(text).forEach((doc, index) => {
    if (doc.errors.length > 0) {
      out.push({ ok: false, index, error: doc.errors.map((e) => e.message).join('; ') });
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return; // an empty document between separators
    if (typeof value === 'object' && !Array.isArray(value) && (value as { kind?: unknown }).kind === 'List') {
      const items = (value as { items?: unknown }).items;
      if (Array.isArray(items)) for (const item of items) out.push({ ok: true, index, value: item });
      return;
    }
    out.push({ ok: true, index, value });
  });
  return out;
}
