// Monitoring and debug HTTP on --http-addr: /metrics (Prometheus), /ready, /debug/syncz,
// /debug/configz (the accepted objects and the rejected ones with their reasons) and
// /debug/config_dump?proxyID=... (what that proxy would be sent now).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Problem } from '../ingest/validation.js';
import type { ConfigObject } from '../model/istio-types.js';
import type { XdsMetrics } from './metrics.js';
import type { Syncz } from './syncz.js';

export interface DebugSources {
  readonly metrics: XdsMetrics;
  readonly ready: () => boolean;
  readonly syncz: () => Syncz;
  readonly configz: () => { objects: readonly ConfigObject[]; rejected: readonly Problem[] };
  readonly configDump: (proxyId: string) => unknown;
}

export class DebugServer {
  private readonly server: Server;

  constructor(src: DebugSources) {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body, null, 2));
      };
      switch (url.pathname) {
        case '/metrics':
          void src.metrics.registry.metrics().then((text) => {
            res.writeHead(200, { 'content-type': src.metrics.registry.contentType });
            res.end(text);
          });
          return;
        case '/ready':
          res.writeHead(src.ready() ? 200 : 503, { 'content-type': 'text/plain' });
          res.end(src.ready() ? 'ready\n' : 'not ready\n');
          return;
        case '/debug/syncz':
          return json(200, src.syncz());
        case '/debug/configz':
          return json(200, src.configz());
        case '/debug/config_dump': {
          const id = url.searchParams.get('proxyID');
          if (!id) return json(400, { error: 'proxyID is required' });
          const dump = src.configDump(id);
          return dump === undefined ? json(404, { error: `proxy ${id} is not connected` }) : json(200, dump);
        }
        default:
          return json(404, {
            error: 'not found',
            endpoints: [
              '/metrics',
              '/ready',
              '/debug/syncz',
              '/debug/configz',
              '/debug/config_dump?proxyID=',
            ],
          });
      }
    });
  }

  /** Listens on `host:port` (port 0 = ephemeral); resolves with the bound `host:port`. */
  listen(address: string): Promise<string> {
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon) || '0.0.0.0';
    const port = Number(address.slice(colon + 1));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address() as AddressInfo;
        resolve(`${host}:${a.port}`);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
