// The SDS server the proxy reads its certificates from: a gRPC server on a Unix socket serving
// the `default` workload certificate and the `ROOTCA` trust bundle, pushing every rotation, over
// StreamSecrets (state of the world), DeltaSecrets (incremental, delta-sds.ts) and FetchSecrets.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TypeUrl, discoveryV3, messageFromJson, sdsServiceDefinition } from '@skein/api-types';
import { deltaSecretsHandler } from './delta-sds.js';
import type { WorkloadCertificate, WorkloadSecret } from './workload-certificate.js';

export const WORKLOAD_SECRET = 'default';
export const ROOT_SECRET = 'ROOTCA';

type Req = discoveryV3.DiscoveryRequest;
type Res = discoveryV3.DiscoveryResponse;

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The Envoy Secret resource (canonical JSON) for a name, or undefined when the name is unknown. */
export function secretResource(name: string, s: WorkloadSecret): Record<string, unknown> | undefined {
  if (name === WORKLOAD_SECRET) {
    return {
      name,
      tlsCertificate: {
        certificateChain: { inlineBytes: b64(s.certChainPem) },
        privateKey: { inlineBytes: b64(s.keyPem) },
      },
    };
  }
  if (name === ROOT_SECRET)
    return { name, validationContext: { trustedCa: { inlineBytes: b64(s.rootCertPem) } } };
  return undefined;
}

function response(names: string[], s: WorkloadSecret, nonce: number): Res {
  const resources = names
    .map((n) => secretResource(n, s))
    .filter((r) => r !== undefined)
    .map((r) => ({ '@type': TypeUrl.Secret, ...r }));
  return messageFromJson(discoveryV3.DiscoveryResponseSchema, {
    versionInfo: String(s.version),
    resources,
    typeUrl: TypeUrl.Secret,
    nonce: String(nonce),
  });
}

export interface SdsServerOptions {
  socketPath: string;
  certificate: WorkloadCertificate;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface RunningSds {
  close(): Promise<void>;
  /** Number of open StreamSecrets and DeltaSecrets streams. */
  streams(): number;
}

export async function startSdsServer(o: SdsServerOptions): Promise<RunningSds> {
  let nonce = 0;
  let open = 0;
  const streamSecrets = (call: grpc.ServerDuplexStream<Req, Res>) => {
    open++;
    let names: string[] = [];
    let sent = 0;
    const push = (s: WorkloadSecret) => {
      if (names.length === 0 || sent === s.version) return;
      sent = s.version;
      call.write(response(names, s, ++nonce));
    };
    const off = o.certificate.onUpdate(push);
    call.on('data', (req: Req) => {
      if (req.errorDetail && req.errorDetail.message) {
        o.log?.('proxy rejected secret', { nonce: req.responseNonce, error: req.errorDetail.message });
      }
      const requested = [...req.resourceNames];
      if ([...requested].sort().join(',') !== [...names].sort().join(',')) {
        names = requested;
        sent = 0;
        const s = o.certificate.secret;
        if (s) push(s);
      }
    });
    const done = () => {
      off();
      open--;
    };
    call.on('end', () => {
      done();
      call.end();
    });
    call.on('error', done);
    call.on('cancelled', () => undefined);
  };
  const fetchSecrets: grpc.handleUnaryCall<Req, Res> = (call, cb) => {
    const s = o.certificate.secret;
    if (!s) return cb({ code: grpc.status.UNAVAILABLE, details: 'no certificate yet' });
    cb(null, response([...call.request.resourceNames], s, ++nonce));
  };
  const deltaSecrets = deltaSecretsHandler({
    certificate: o.certificate,
    resource: secretResource,
    nonce: () => String(++nonce),
    log: o.log,
    onStream: (d) => (open += d),
  });

  mkdirSync(dirname(o.socketPath), { recursive: true });
  rmSync(o.socketPath, { force: true });
  const server = new grpc.Server();
  server.addService(sdsServiceDefinition, {
    streamSecrets,
    fetchSecrets,
    deltaSecrets,
  } as grpc.UntypedServiceImplementation);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${o.socketPath}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  return {
    streams: () => open,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        rmSync(o.socketPath, { force: true });
        resolve();
      }),
  };
}
