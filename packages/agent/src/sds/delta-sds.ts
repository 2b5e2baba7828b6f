// Incremental (delta) SDS: `DeltaSecrets` on the agent's SDS socket. The proxy subscribes to
// names (`default`, `ROOTCA`), may say which versions it already holds, and receives only the
// secrets whose content it does not have: a rotation sends `default` alone while the root is
// unchanged. Versions are content hashes, so a reconnecting proxy is not sent what it has.
import { createHash } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { TypeUrl, discoveryV3, messageFromJson } from '@skein/api-types';
import type { WorkloadCertificate, WorkloadSecret } from './workload-certificate.js';

type Req = discoveryV3.DeltaDiscoveryRequest;
type Res = discoveryV3.DeltaDiscoveryResponse;

export interface DeltaSdsOptions {
  certificate: WorkloadCertificate;
  /** The secret resource (canonical JSON) for a name, or undefined when the name is unknown. */
  resource: (name: string, s: WorkloadSecret) => Record<string, unknown> | undefined;
  nonce: () => string;
  log?: ((msg: string, fields?: Record<string, unknown>) => void) | undefined;
  /** Called when a stream opens and closes (for the server's stream count). */
  onStream?: (delta: 1 | -1) => void;
}

const versionOf = (r: Record<string, unknown>): string =>
  createHash('sha256').update(JSON.stringify(r)).digest('hex').slice(0, 16);

export function deltaSecretsHandler(o: DeltaSdsOptions): (call: grpc.ServerDuplexStream<Req, Res>) => void {
  return (call) => {
    o.onStream?.(1);
    const subscribed = new Set<string>();
    /** name → the version the proxy holds (sent by us, or declared in initial_resource_versions). */
    const held = new Map<string, string>();
    const send = (s: WorkloadSecret | undefined): void => {
      if (!s) return;
      const resources: Record<string, unknown>[] = [];
      for (const name of [...subscribed].sort()) {
        const r = o.resource(name, s);
        if (!r) continue;
        const version = versionOf(r);
        if (held.get(name) === version) continue;
        held.set(name, version);
        resources.push({ name, version, resource: { '@type': TypeUrl.Secret, ...r } });
      }
      if (resources.length === 0) return;
      call.write(
        messageFromJson(discoveryV3.DeltaDiscoveryResponseSchema, {
          systemVersionInfo: String(s.version),
          typeUrl: TypeUrl.Secret,
          resources,
          nonce: o.nonce(),
        }),
      );
    };
    const off = o.certificate.onUpdate(send);
    let first = true;
    call.on('data', (req: Req) => {
      if (req.errorDetail?.message)
        o.log?.('proxy rejected secret (delta)', {
          nonce: req.responseNonce,
          error: req.errorDetail.message,
        });
      if (first) {
        first = false;
        for (const [name, version] of Object.entries(req.initialResourceVersions)) held.set(name, version);
      } else {
        // A name subscribed again is sent again: the proxy may have dropped it.
        for (const name of req.resourceNamesSubscribe) if (!subscribed.has(name)) held.delete(name);
      }
      for (const name of req.resourceNamesSubscribe) subscribed.add(name);
      for (const name of req.resourceNamesUnsubscribe) {
        subscribed.delete(name);
        held.delete(name);
      }
      send(o.certificate.secret);
    });
    let closed = false;
    const done = (): void => {
      if (closed) return;
      closed = true;
      off();
      o.onStream?.(-1);
    };
    call.on('end', () => {
      done();
      call.end();
    });
    call.on('error', done);
    call.on('cancelled', done);
  };
}
