// The proxy side of SDS: a StreamSecrets subscription to the agent's socket (the bootstrap's
// sds-grpc cluster) keeping the latest Secret per name, ACKing each push, reconnecting with
// backoff, telling listeners on every change — so TLS contexts follow rotations.
import * as grpc from '@grpc/grpc-js';
import { TypeUrl, discoveryV3, messageFromJson, messageToJson, sdsServiceDefinition } from '@skein/api-types';
import type { SecretJson, SecretLookup } from './node-tls-options.js';

export interface SdsClientOptions {
  /** grpc target: `unix:/path/to/socket` or host:port. */
  target: string;
  nodeId: string;
  /** Secret names to watch (more with watch()). */
  names: string[];
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface SdsSecrets {
  get(name: string): SecretJson | undefined;
  /** For tlsServerOptions / tlsClientOptions. */
  readonly lookup: SecretLookup;
  /** Adds names to the subscription. */
  watch(...names: string[]): void;
  /** Resolves once every named secret has arrived. */
  ready(names?: string[]): Promise<void>;
  onUpdate(fn: (name: string, secret: SecretJson) => void): () => void;
  close(): void;
}

const Sds = grpc.makeGenericClientConstructor(sdsServiceDefinition, 'SecretDiscoveryService');
type Req = discoveryV3.DiscoveryRequest;
type Res = discoveryV3.DiscoveryResponse;

export function subscribeSecrets(o: SdsClientOptions): SdsSecrets {
  const secrets = new Map<string, SecretJson>();
  const names = new Set(o.names);
  const listeners = new Set<(name: string, s: SecretJson) => void>();
  const client = new Sds(o.target, grpc.credentials.createInsecure());
  let call: grpc.ClientDuplexStream<Req, Res> | undefined;
  let closed = false;
  let backoff = 200;
  let last: { versionInfo: string; nonce: string } | undefined;
  let first = true;

  const request = () =>
    messageFromJson(discoveryV3.DiscoveryRequestSchema, {
      ...(first ? { node: { id: o.nodeId } } : {}),
      typeUrl: TypeUrl.Secret,
      resourceNames: [...names].sort(),
      ...(last ? { versionInfo: last.versionInfo, responseNonce: last.nonce } : {}),
    });

  const connect = () => {
    if (closed) return;
    first = true;
    last = undefined;
    const c = client.makeBidiStreamRequest(
      '/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets',
      (m: Req) => sdsServiceDefinition['streamSecrets']!.requestSerialize(m),
      (b: Buffer) => sdsServiceDefinition['streamSecrets']!.responseDeserialize(b) as Res,
    );
    call = c;
    c.on('data', (r: Res) => {
      backoff = 200;
      const json = messageToJson(discoveryV3.DiscoveryResponseSchema, r) as unknown as {
        resources?: SecretJson[];
      };
      for (const s of json.resources ?? []) {
        if (!s.name) continue;
        secrets.set(s.name, s);
        for (const l of [...listeners]) l(s.name, s);
      }
      last = { versionInfo: r.versionInfo, nonce: r.nonce };
      c.write(request());
    });
    c.on('error', (e: grpc.ServiceError) => {
      if (!closed) o.log?.('SDS stream failed', { error: e.message, retryInMs: backoff });
    });
    c.on('status', () => {
      if (closed) return;
      setTimeout(connect, backoff).unref();
      backoff = Math.min(backoff * 2, 10_000);
    });
    c.write(request());
    first = false;
  };
  connect();

  const has = (want: string[]) => want.every((n) => secrets.has(n));
  return {
    get: (n) => secrets.get(n),
    lookup: (n) => secrets.get(n),
    watch: (...more) => {
      const before = names.size;
      for (const n of more) names.add(n);
      if (names.size !== before) call?.write(request());
    },
    ready: (want = [...names]) =>
      new Promise<void>((resolve) => {
        if (has(want)) return resolve();
        const fn = () => {
          if (!has(want)) return;
          listeners.delete(fn);
          resolve();
        };
        listeners.add(fn);
      }),
    onUpdate: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close: () => {
      closed = true;
      call?.cancel();
      client.close();
    },
  };
}
