// Structured logs: one JSON line per event on stderr, with a scope per component (ingest, xds,
// push, http), so a push says why it happened and to whom.

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'none';
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3, none: 4 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  scope(name: string): Logger;
  /** Whether debug lines are written (hot paths skip building their fields when not). */
  readonly debugEnabled?: boolean | undefined;
}

export function createLogger(
  level: Level = 'info',
  scope = 'skeind',
  write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
): Logger {
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, scope, msg, ...fields }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    scope: (name) => createLogger(level, name, write),
    debugEnabled: ORDER[level] <= ORDER.debug,
  };
}
