// The local xDS relay (Istio's XDS proxy): the proxy speaks plaintext ADS to the agent on a Unix
// socket; the agent carries each stream to skeind, over TLS with the workload certificate when
// asked. Messages pass through as bytes, so any ADS version or type goes through unchanged.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { trustBundlePem } from '@skein/ca';

const METHODS = {
  streamAggregatedResources:
    '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
  deltaAggregatedResources: '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
} as const;

const bytes = (b: Buffer) => b;

/** ADS with pass-through (de)serialisers. */
const passthrough: grpc.ServiceDefinition = Object.fromEntries(
  Object.entries(METHODS).map(([name, path]) => [
    name,
    {
      path,
      requestStream: true,
      responseStream: true,
      requestSerialize: bytes,
      requestDeserialize: bytes,
      responseSerialize: bytes,
      responseDeserialize: bytes,
    },
  ]),
);

export interface XdsRelayOptions {
  socketPath: string;
  /** host:port of skeind (15012 with TLS, 15010 plaintext). */
  upstream: string;
  /** Credentials for each new upstream stream (read per stream, so rotated certificates are used). */
  credentials: () => grpc.ChannelCredentials;
  /** TLS name to verify on the upstream, when it differs from the host. */
  serverName?: string;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface RunningXdsRelay {
  close(): Promise<void>;
  streams(): number;
}

export async function startXdsRelay(o: XdsRelayOptions): Promise<RunningXdsRelay> {
  let open = 0;
  const options: grpc.ChannelOptions = o.serverName ? { 'grpc.ssl_target_name_override': o.serverName } : {};
  const relay = (path: string) => (down: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    open++;
    const client = new grpc.Client(o.upstream, o.credentials(), options);
    const up = client.makeBidiStreamRequest(path, bytes, bytes, down.metadata.clone());
    let finished = false;
    const finish = (err?: grpc.ServiceError) => {
      if (finished) return;
      finished = true;
      open--;
      if (err) {
        o.log?.('upstream xDS stream failed', { error: err.message });
        down.emit('error', {
          code: err.code ?? grpc.status.UNAVAILABLE,
          details: `skeind: ${err.details ?? err.message}`,
        });
      } else down.end();
      client.close();
    };
    down.on('data', (b: Buffer) => up.write(b));
    down.on('end', () => up.end());
    down.on('cancelled', () => {
      up.cancel();
      finish();
    });
    down.on('error', () => up.cancel());
    up.on('data', (b: Buffer) => down.write(b));
    up.on('error', (e: grpc.ServiceError) => finish(e.code === grpc.status.CANCELLED ? undefined : e));
    up.on('end', () => finish());
  };
  mkdirSync(dirname(o.socketPath), { recursive: true });
  rmSync(o.socketPath, { force: true });
  const server = new grpc.Server();
  server.addService(passthrough, {
    streamAggregatedResources: relay(METHODS.streamAggregatedResources),
    deltaAggregatedResources: relay(METHODS.deltaAggregatedResources),
  } as grpc.UntypedServiceImplementation);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${o.socketPath}`, grpc.ServerCredentials.createInsecure(), (e) =>
      e ? reject(e) : resolve(),
    ),
  );
  return {
    streams: () => open,
    close: async () => {
      server.forceShutdown();
      rmSync(o.socketPath, { force: true });
    },
  };
}

/**
 * TLS credentials for the upstream: the configured mesh root plus the trust bundle the current
 * workload certificate came with (so a root rotation's new root is trusted once the CA sends it),
 * and the workload certificate when there is one.
 */
export function meshChannelCredentials(
  rootCertPem: string,
  current: () => { keyPem: string; certChainPem: string; rootCertPem?: string } | undefined,
): () => grpc.ChannelCredentials {
  return () => {
    const c = current();
    return grpc.credentials.createSsl(
      Buffer.from(trustBundlePem([rootCertPem, c?.rootCertPem ?? ''])),
      c ? Buffer.from(c.keyPem) : null,
      c ? Buffer.from(c.certChainPem) : null,
    );
  };
}
