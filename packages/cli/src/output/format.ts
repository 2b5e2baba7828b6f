// The -o/--output flag shared by every command: a table for people, json or yaml for programs.
import { stringify } from 'yaml';

export type OutputFormat = 'table' | 'json' | 'yaml';

export function parseOutputFormat(value: string): OutputFormat {
  if (value === 'table' || value === 'json' || value === 'yaml' || value === 'short')
    return value === 'short' ? 'table' : value;
  throw new Error(`unknown output format ${JSON.stringify(value)} (use table, json or yaml)`);
}

/** Renders data for -o json|yaml; callers render tables themselves. */
export function renderData(data: unknown, format: Exclude<OutputFormat, 'table'>): string {
  return format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : stringify(data, { lineWidth: 0 });
}
