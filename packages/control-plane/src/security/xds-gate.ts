// Authentication of proxies on skeind's TLS xDS port: the caller's credentials (mesh certificate,
// bootstrap or service-account token) are checked before the ADS handler sees the stream, and the
// first request's node must claim that same namespace and service account, as istiod checks.
import * as grpc from '@grpc/grpc-js';
import { authenticate, callCredentials, parseSpiffeId, type Authenticator } from '@skein/ca';
import type { Logger } from '../log.js';
import { parseProxy } from '../model/proxy.js';
import { markVerified } from '../serve/verified-identity.js';

type Stream = grpc.ServerDuplexStream<{ node?: { id?: string; metadata?: unknown } | undefined }, unknown>;
type Handler = (stream: never) => void;

/** Ends the call with `code` (grpc-js turns an 'error' event into the call's status). */
function refuse(stream: Stream, code: grpc.status, message: string): void {
  stream.emit('error', Object.assign(new Error(message), { code, details: message }));
}

/** Whether the first request's node claims `identity` (a SPIFFE URI); an error message if not. */
export function claimMismatch(
  node: { id?: string; metadata?: unknown } | undefined,
  identity: string,
): string | undefined {
  const parsed = parseProxy({
    id: node?.id ?? '',
    metadata: (node?.metadata ?? {}) as Record<string, unknown>,
  });
  if (!parsed.ok) return parsed.error;
  const id = parseSpiffeId(identity);
  const { namespace, serviceAccount } = parsed.proxy;
  if (id?.namespace === namespace && id.serviceAccount === serviceAccount) return undefined;
  return `proxy authenticated as ${identity} claims namespace ${namespace} service account ${serviceAccount}`;
}

/**
 * Wraps an ADS stream handler: authenticates the call, then hands the handler a view of the stream
 * whose first message is only delivered when the node's claimed identity matches the caller.
 */
export function authenticatedXds(
  handler: Handler,
  authenticators: Authenticator[],
  log: Logger,
): grpc.handleBidiStreamingCall<unknown, unknown> {
  const gated = (stream: Stream): void => {
    authenticate(authenticators, callCredentials(stream)).then(
      (caller) => {
        let verdict: string | undefined | null = null; // null: first message not seen yet
        const view = new Proxy(stream, {
          get(target, prop) {
            if (prop === 'on' || prop === 'addListener' || prop === 'once') {
              return (event: string, listener: (...a: unknown[]) => void) => {
                if (event !== 'data') {
                  target[prop](event, listener);
                  return view;
                }
                target[prop]('data', (msg: { node?: { id?: string; metadata?: unknown } }) => {
                  if (verdict === null) {
                    verdict = claimMismatch(msg.node, caller.identity);
                    if (verdict !== undefined) {
                      log.warn('refusing xDS stream', { error: verdict });
                      refuse(stream, grpc.status.PERMISSION_DENIED, verdict);
                    }
                  }
                  if (verdict === undefined) {
                    markVerified(msg, caller.identity);
                    listener(msg);
                  }
                });
                return view;
              };
            }
            const v: unknown = Reflect.get(target, prop, target);
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        });
        handler(view as never);
      },
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        log.warn('refusing unauthenticated xDS stream', { error: message });
        refuse(stream, grpc.status.UNAUTHENTICATED, message);
      },
    );
  };
  return gated as grpc.handleBidiStreamingCall<unknown, unknown>;
}
