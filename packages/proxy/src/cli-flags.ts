// skein-proxy's command line: every flag in one table (name, default, description), parsed with
// node:util's parseArgs and printed by --help. Not commander, which the other binaries use: its
// index loads node:child_process (for git-style subcommands) and with it dgram, readline and more
// of Node — 4.7 MB of a sidecar's idle RSS (measured, README "Idle memory") for two lines of help.
import type * as Util from 'node:util';
import { LOG_LEVELS } from './util/logger.js';

// Not `import ... from 'node:util'`: its ES module facade reads every export, which loads
// worker_threads, the REPL's colours and the assertion differ.
const { parseArgs } = process.getBuiltinModule('node:util') as typeof Util;

export interface ProxyFlags {
  configPath: string;
  concurrency: string;
  logLevel: string;
  rejectUnsupported: boolean;
  deltaXds: boolean;
}

interface Flag {
  key: keyof ProxyFlags;
  long: string;
  short?: string;
  value?: string;
  def?: string | boolean;
  choices?: readonly string[];
  required?: boolean;
  help: string;
}

const FLAGS: readonly Flag[] = [
  {
    key: 'configPath',
    long: 'config-path',
    short: 'c',
    value: '<file>',
    required: true,
    help: 'Envoy v3 Bootstrap file (YAML or JSON)',
  },
  {
    key: 'concurrency',
    long: 'concurrency',
    value: '<n>',
    def: '2',
    help: 'threads serving traffic on the same ports (SO_REUSEPORT; 0: one per CPU, as Envoy); the main thread also runs xDS, SDS and admin',
  },
  {
    key: 'logLevel',
    long: 'log-level',
    short: 'l',
    value: '<level>',
    def: 'info',
    choices: LOG_LEVELS,
    help: 'log level',
  },
  {
    key: 'rejectUnsupported',
    long: 'reject-unsupported',
    def: false,
    help: 'refuse to start when the bootstrap sets fields skein-proxy does not implement (default: report and start)',
  },
  {
    key: 'deltaXds',
    long: 'delta-xds',
    def: false,
    help: 'use incremental (delta) ADS instead of state of the world',
  },
];

/** The --help text. */
export function helpText(): string {
  const rows = [
    ...FLAGS.map((f) => {
      const name = `${f.short ? `-${f.short}, ` : ''}--${f.long}${f.value ? ` ${f.value}` : ''}`;
      const extra = [
        f.choices ? `choices: ${f.choices.join(', ')}` : '',
        typeof f.def === 'string' ? `default: ${f.def}` : '',
      ].filter(Boolean);
      return [name, `${f.help}${extra.length ? ` (${extra.join('; ')})` : ''}`] as const;
    }),
    ['--version', 'print the release version'] as const,
    ['-h, --help', 'display help'] as const,
  ];
  const width = Math.max(...rows.map(([n]) => n.length)) + 2;
  return [
    'Usage: skein-proxy [options]',
    '',
    'skein-proxy: the Skein data plane proxy, configured through an Envoy v3 bootstrap and xDS',
    '',
    'Options:',
    ...rows.map(([n, h]) => `  ${n.padEnd(width)}${h}`),
    '',
  ].join('\n');
}

/** What the command line asks for: run with flags, print help or the version, or an error. */
export type CliRequest =
  | { kind: 'run'; flags: ProxyFlags }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'error'; message: string };

/** Parses argv (without node and the script). */
export function parseProxyArgs(argv: readonly string[]): CliRequest {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    };
    for (const f of FLAGS)
      options[f.long] = { type: f.value ? 'string' : 'boolean', ...(f.short ? { short: f.short } : {}) };
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  }
  if (values['help']) return { kind: 'help' };
  if (values['version']) return { kind: 'version' };
  const out: Record<string, string | boolean> = {};
  for (const f of FLAGS) {
    const v = values[f.long] ?? f.def;
    if (v === undefined) {
      if (f.required)
        return { kind: 'error', message: `required option '--${f.long} ${f.value ?? ''}' not specified` };
      continue;
    }
    if (f.choices && typeof v === 'string' && !f.choices.includes(v))
      return {
        kind: 'error',
        message: `option '--${f.long}' argument '${v}' is invalid; choices: ${f.choices.join(', ')}`,
      };
    out[f.key] = v;
  }
  return { kind: 'run', flags: out as unknown as ProxyFlags };
}
