// Structured, scoped logging with a runtime-adjustable level (the admin /logging endpoint).

export type LogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'critical' | 'off';
export const LOG_LEVELS: readonly LogLevel[] = [
  'trace',
  'debug',
  'info',
  'warning',
  'error',
  'critical',
  'off',
];

export interface LogSink {
  write(line: string): void;
}

/** Shared level state and sink; `scope()` makes a logger per component. */
export class LogHub {
  private levelIndex: number;
  constructor(
    level: LogLevel = 'info',
    private readonly sink: LogSink = { write: (l) => process.stderr.write(l + '\n') },
  ) {
    this.levelIndex = LOG_LEVELS.indexOf(level);
  }
  get level(): LogLevel {
    return LOG_LEVELS[this.levelIndex] ?? 'info';
  }
  setLevel(level: LogLevel): void {
    this.levelIndex = LOG_LEVELS.indexOf(level);
  }
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.levelIndex && level !== 'off';
  }
  scope(name: string): Logger {
    const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
      if (!this.enabled(level)) return;
      this.sink.write(
        JSON.stringify({ time: new Date().toISOString(), level, scope: name, msg, ...(fields ?? {}) }),
      );
    };
    return {
      debug: (m, f) => log('debug', m, f),
      info: (m, f) => log('info', m, f),
      warn: (m, f) => log('warning', m, f),
      error: (m, f) => log('error', m, f),
    };
  }
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}
