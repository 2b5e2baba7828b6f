// startCa: the embeddable CA — material, policy and authenticators in, a TLS gRPC server serving
// IstioCertificateService out (skeind embeds the same handlers on its own 15012 server).
import * as grpc from '@grpc/grpc-js';
import { caServiceDefinition } from '@skein/api-types';
import { caServiceHandlers, type CaServiceOptions } from './ca-service.js';
import type { ServingIdentity } from './serving-credentials.js';
import { rotatingServingCredentials } from './serving-rotation.js';

export interface StartCaOptions extends CaServiceOptions {
  /** Default 0.0.0.0. */
  host?: string;
  /** Default 15012; 0 picks a free port. */
  port?: number;
  /**
   * Names (and lifetime, default 30 days) of the CA's serving certificate; default localhost +
   * skeind/istiod service names + 127.0.0.1. Reissued at half its lifetime.
   */
  serving?: ServingIdentity;
}

export interface RunningCa {
  port: number;
  /** The CA's current trust bundle (every trusted root). */
  readonly rootCertPem: string;
  close(): Promise<void>;
}

export const DEFAULT_SERVING_IDENTITY: ServingIdentity = {
  dnsNames: [
    'localhost',
    'skeind.skein-system.svc',
    'skeind.skein-system.svc.cluster.local',
    'istiod.istio-system.svc',
  ],
  ipAddresses: ['127.0.0.1'],
};

export async function startCa(o: StartCaOptions): Promise<RunningCa> {
  const serving = await rotatingServingCredentials(o.ca, o.serving ?? DEFAULT_SERVING_IDENTITY);
  const server = new grpc.Server();
  server.addService(caServiceDefinition, caServiceHandlers(o));
  const host = o.host ?? '0.0.0.0';
  const hostPort = host.includes(':') ? `[${host}]:${o.port ?? 15012}` : `${host}:${o.port ?? 15012}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(hostPort, serving.credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    get rootCertPem() {
      return o.ca.rootCertPem;
    },
    close: () =>
      new Promise<void>((resolve) => {
        serving.stop();
        server.tryShutdown(() => resolve());
      }),
  };
}
