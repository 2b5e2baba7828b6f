// Access log sinks configured on an HCM or listener: file, stdout or stderr, with a text or
// JSON format, for the requests its filter keeps; writes are asynchronous appends through one
// stream per path.
import { createWriteStream, type WriteStream } from 'node:fs';
import { DEFAULT_FORMAT, formatJson, formatText } from './format.js';
import { compileLogFilter, type AccessLogFilterJson } from './log-filter.js';
import type { StreamInfo } from '../http-connection-manager/stream-info.js';

export interface AccessLogConfigJson {
  name?: string;
  /** Which requests this log writes (Envoy's AccessLogFilter); absent: every one. */
  filter?: AccessLogFilterJson;
  typedConfig?: {
    '@type'?: string;
    path?: string;
    format?: string;
    logFormat?: {
      textFormat?: string;
      jsonFormat?: Record<string, unknown>;
      textFormatSource?: { inlineString?: string };
    };
  };
}

export type AccessLogger = (info: StreamInfo) => void;

const streams = new Map<string, WriteStream>();
function fileStream(path: string): WriteStream {
  let s = streams.get(path);
  if (!s) {
    s = createWriteStream(path, { flags: 'a' });
    streams.set(path, s);
  }
  return s;
}

/** Closes file streams opened for access logs (on proxy shutdown). */
export async function closeAccessLogFiles(): Promise<void> {
  const all = [...streams.values()];
  streams.clear();
  await Promise.all(all.map((s) => new Promise<void>((r) => s.end(r))));
}

export function createAccessLogger(cfg: AccessLogConfigJson): AccessLogger {
  const t = cfg.typedConfig ?? {};
  const type = t['@type'] ?? '';
  const lf = t.logFormat;
  const render = lf?.jsonFormat
    ? (i: StreamInfo) => formatJson(lf.jsonFormat ?? {}, i)
    : (i: StreamInfo) => {
        const f = lf?.textFormat ?? lf?.textFormatSource?.inlineString ?? t.format ?? DEFAULT_FORMAT;
        return formatText(f.endsWith('\n') ? f : f + '\n', i);
      };
  let write: (line: string) => void;
  if (type.endsWith('StdoutAccessLog') || t.path === '/dev/stdout') write = (l) => process.stdout.write(l);
  else if (type.endsWith('StderrAccessLog') || t.path === '/dev/stderr')
    write = (l) => process.stderr.write(l);
  else if (t.path) {
    const path = t.path;
    write = (l) => fileStream(path).write(l);
  } else write = (l) => process.stdout.write(l);
  if (!cfg.filter) return (info) => write(render(info));
  const keep = compileLogFilter(cfg.filter);
  return (info) => {
    if (keep(info)) write(render(info));
  };
}
