// The SDS client against a stand-in SDS server: initial secrets, ACKs, pushed updates, added
// names, and reconnection after the server restarts on the same socket.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TypeUrl, discoveryV3, messageFromJson, sdsServiceDefinition } from '@skein/api-types';
import { afterAll, describe, expect, it } from 'vitest';
import { subscribeSecrets } from './sds-client.js';

type Req = discoveryV3.DiscoveryRequest;
type Res = discoveryV3.DiscoveryResponse;

function standInSds(socket: string, version: { n: number }, seen: string[]) {
  const streams = new Set<grpc.ServerDuplexStream<Req, Res>>();
  const send = (call: grpc.ServerDuplexStream<Req, Res>, names: string[]) =>
    call.write(
      messageFromJson(discoveryV3.DiscoveryResponseSchema, {
        versionInfo: String(version.n),
        nonce: `n${version.n}`,
        typeUrl: TypeUrl.Secret,
        resources: names.map((name) => ({
          '@type': TypeUrl.Secret,
          name,
          validationContext: { trustedCa: { inlineString: `ca-${version.n}` } },
        })),
      }),
    );
  const server = new grpc.Server();
  server.addService(sdsServiceDefinition, {
    streamSecrets: (call: grpc.ServerDuplexStream<Req, Res>) => {
      streams.add(call);
      let names: string[] = [];
      call.on('data', (r: Req) => {
        seen.push(`${r.resourceNames.join(',')}|${r.responseNonce}`);
        if (r.resourceNames.join(',') !== names.join(',')) {
          names = [...r.resourceNames];
          send(call, names);
        }
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
      (call as unknown as { pushAll: () => void }).pushAll = () => send(call, names);
    },
    fetchSecrets: () => undefined,
    deltaSecrets: () => undefined,
  } as grpc.UntypedServiceImplementation);
  const ready = new Promise<void>((res, rej) =>
    server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())),
  );
  return {
    ready,
    server,
    push: () => {
      version.n++;
      for (const c of streams) (c as unknown as { pushAll: () => void }).pushAll();
    },
  };
}

describe('subscribeSecrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-sdsc-'));
  const socket = join(dir, 'sds.sock');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('follows pushes, added names and a server restart', async () => {
    const version = { n: 1 };
    const seen: string[] = [];
    let sds = standInSds(socket, version, seen);
    await sds.ready;
    const secrets = subscribeSecrets({
      target: `unix:${socket}`,
      nodeId: 'sidecar~1.2.3.4~a.b~b.svc.cluster.local',
      names: ['ROOTCA'],
    });
    try {
      await secrets.ready();
      expect(secrets.get('ROOTCA')?.validationContext?.trustedCa?.inlineString).toBe('ca-1');
      const updated = new Promise<string>((r) =>
        secrets.onUpdate((name, s) => r(`${name} ${s.validationContext?.trustedCa?.inlineString}`)),
      );
      sds.push();
      expect(await updated).toBe('ROOTCA ca-2');
      secrets.watch('default');
      await secrets.ready(['default']);
      expect(seen).toContain('ROOTCA|n1');
      expect(seen).toContain('ROOTCA,default|n2');

      sds.server.forceShutdown();
      sds = standInSds(socket, version, seen);
      version.n = 10;
      await sds.ready;
      const again = new Promise<void>((r) =>
        secrets.onUpdate((_n, s) => s.validationContext?.trustedCa?.inlineString === 'ca-10' && r()),
      );
      await again;
    } finally {
      secrets.close();
      sds.server.forceShutdown();
    }
  });
});
