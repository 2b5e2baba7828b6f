// The admin interface (Envoy's, on the bootstrap's admin address): /config_dump, /clusters,
// /listeners, /stats (text, json, filter), /stats/prometheus, /ready, /server_info, /logging,
// /drain_listeners, /quitquitquit. Reads the proxy through a small interface.
import http from 'node:http';
import { re2 } from '@skein/api-types';
import { isLogLevel, LOG_LEVELS, type LogHub } from '../util/logger.js';
import { listenersJson, listenersText, type ListenerStatus } from './listeners-status.js';

export interface AdminTarget {
  configDump(includeEds: boolean): string;
  clustersText(): string;
  clustersJson(): unknown;
  listeners(): ListenerStatus[];
  statsText(filter?: (name: string) => boolean): Promise<string>;
  statsJson(): Promise<unknown>;
  prometheus(): Promise<string>;
  state(): 'LIVE' | 'INITIALIZING' | 'DRAINING' | 'PRE_INITIALIZING';
  serverInfo(): unknown;
  drainListeners(): Promise<void>;
  quit(): void;
  logs: LogHub;
}

function send(
  res: http.ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=UTF-8',
): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache, max-age=0',
  });
  res.end(body);
}

export function createAdminServer(t: AdminTarget): http.Server {
  return http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://admin');
      const q = url.searchParams;
      const json = q.get('format') === 'json';
      switch (url.pathname) {
        case '/config_dump':
          return send(res, 200, t.configDump(q.has('include_eds')), 'application/json');
        case '/clusters':
          return json
            ? send(res, 200, JSON.stringify(t.clustersJson(), null, 2), 'application/json')
            : send(res, 200, t.clustersText());
        case '/listeners':
          return json
            ? send(res, 200, JSON.stringify(listenersJson(t.listeners()), null, 2), 'application/json')
            : send(res, 200, listenersText(t.listeners()));
        case '/stats': {
          if (json) return send(res, 200, JSON.stringify(await t.statsJson()), 'application/json');
          if (q.get('format') === 'prometheus')
            return send(res, 200, await t.prometheus(), 'text/plain; version=0.0.4');
          const f = q.get('filter');
          const rx = f ? re2(f) : undefined;
          return send(res, 200, await t.statsText(rx ? (n) => rx.partialMatch(n) : undefined));
        }
        case '/stats/prometheus':
          return send(res, 200, await t.prometheus(), 'text/plain; version=0.0.4');
        case '/ready': {
          const s = t.state();
          return send(res, s === 'LIVE' ? 200 : 503, s + '\n');
        }
        case '/server_info':
          return send(res, 200, JSON.stringify(t.serverInfo(), null, 2), 'application/json');
        case '/logging': {
          const level = q.get('level');
          if (req.method === 'POST' && level) {
            if (!isLogLevel(level))
              return send(res, 400, `unknown level ${level}; levels: ${LOG_LEVELS.join(', ')}\n`);
            t.logs.setLevel(level);
          } else if (req.method === 'POST' && q.size > 0) {
            return send(res, 400, 'only ?level=<level> is supported\n');
          }
          return send(res, 200, `active loggers:\n  skein: ${t.logs.level}\n`);
        }
        case '/drain_listeners':
          if (req.method !== 'POST') return send(res, 405, 'use POST\n');
          await t.drainListeners();
          return send(res, 200, 'OK\n');
        case '/quitquitquit':
          if (req.method !== 'POST') return send(res, 405, 'use POST\n');
          send(res, 200, 'OK\n');
          t.quit();
          return;
        case '/':
          return send(
            res,
            200,
            [
              '/config_dump',
              '/clusters',
              '/listeners',
              '/stats',
              '/stats/prometheus',
              '/ready',
              '/server_info',
              '/logging',
              '/drain_listeners',
              '/quitquitquit',
            ].join('\n') + '\n',
          );
        default:
          return send(res, 404, 'not found\n');
      }
    })().catch((err: unknown) => send(res, 500, `${String(err)}\n`));
  });
}
