// skeind's admission webhooks on 15017 over HTTPS: POST /inject (mutating: sidecar injection) and
// POST /validate (mesh CRDs through the api-types validation), AdmissionReview v1 in and out. The
// serving certificate is the control plane's own (issued by the embedded CA, SAN
// skeind.<ns>.svc); a reissue swaps the TLS context for new handshakes.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InjectorConfig } from '../inject/injector-config.js';
import type { NamespaceInfo } from '../inject/injection-policy.js';
import type { Logger } from '../log.js';
import { admitMeshObject, admitPod, parseReview, review } from './admission-review.js';
import type { AdmissionOutcome } from './webhook-metrics.js';

const MAX_BODY = 16 * 1024 * 1024;

export interface WebhookTls {
  /** The current key and certificate chain (PEM). */
  current(): { keyPem: string; certChainPem: string };
  /** Calls `listener` after every reissue. */
  onRotated(listener: () => void): void;
}

export interface WebhookServerOptions {
  readonly tls: WebhookTls;
  /** The injector's configuration now (the mesh config's defaultConfig may change). */
  readonly injector: () => InjectorConfig;
  /** Labels of a namespace when known (`istio-injection=disabled` wins over a pod's "true"). */
  readonly namespace: (name: string) => NamespaceInfo | undefined;
  readonly log: Logger;
  /** Counts answers by webhook and outcome. */
  readonly onAdmission?: ((o: AdmissionOutcome) => void) | undefined;
}

export class WebhookServer {
  private readonly server: Server;

  constructor(private readonly o: WebhookServerOptions) {
    const cred = o.tls.current();
    this.server = createServer({ key: cred.keyPem, cert: cred.certChainPem }, (req, res) => {
      void this.handle(req, res);
    });
    o.tls.onRotated(() => {
      const next = o.tls.current();
      this.server.setSecureContext({ key: next.keyPem, cert: next.certChainPem });
      o.log.info('webhook serving certificate swapped');
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (req.method === 'GET' && path === '/ready') return send(200, { ready: true });
    const webhook =
      path === '/inject' || path.startsWith('/inject/')
        ? 'inject'
        : path === '/validate' || path.startsWith('/validate/')
          ? 'validate'
          : undefined;
    if (!webhook) return send(404, { error: `no webhook at ${path} (POST /inject or /validate)` });
    if (req.method !== 'POST') return send(405, { error: 'POST an AdmissionReview' });
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (e) {
      this.o.onAdmission?.({ webhook, outcome: 'bad-request' });
      return send(400, { error: `bad AdmissionReview: ${(e as Error).message}` });
    }
    let request;
    try {
      request = parseReview(body);
    } catch (e) {
      this.o.onAdmission?.({ webhook, outcome: 'bad-request' });
      return send(400, { error: (e as Error).message });
    }
    if (webhook === 'validate') {
      const response = admitMeshObject(request);
      const kind = request.kind?.kind ?? '?';
      const name = `${request.namespace ?? ''}/${request.name ?? ''}`;
      if (response.allowed) this.o.log.debug('admitted', { kind, name });
      else this.o.log.info('refused', { kind, name, reason: response.status?.message });
      this.o.onAdmission?.({
        webhook: 'validate',
        outcome: response.allowed ? 'allowed' : 'denied',
        group: request.kind?.group,
        version: request.kind?.version,
        resource: request.resource?.resource,
      });
      return send(200, review(response));
    }
    const ns = request.namespace ?? '';
    const outcome = admitPod(request, this.o.namespace(ns) ?? { name: ns, labels: {} }, this.o.injector());
    this.o.log.info(outcome.injected ? 'injected' : 'not injected', {
      namespace: ns,
      pod:
        request.name || (request.object as { metadata?: { generateName?: string } })?.metadata?.generateName,
      reason: outcome.reason,
      dryRun: request.dryRun === true,
    });
    this.o.onAdmission?.({
      webhook: 'inject',
      outcome: outcome.injected ? 'injected' : outcome.response.allowed ? 'skipped' : 'failed',
    });
    send(200, review(outcome.response));
  }

  /** Listens on `host:port` (port 0 = ephemeral); resolves with the bound `host:port`. */
  listen(address: string): Promise<string> {
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon) || '0.0.0.0';
    const port = Number(address.slice(colon + 1));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(`${host}:${(this.server.address() as AddressInfo).port}`);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
