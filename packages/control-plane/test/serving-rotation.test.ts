// skeind's serving certificate on its TLS port (15012) is reissued by its own CA well before
// expiry, live: new handshakes get the new certificate while an ADS stream opened before the
// rotation keeps working on its connection.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { discoveryV3, TypeUrl } from '@skein/api-types';
import { serialOf } from '@skein/ca';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type RunningControlPlane } from '../src/control-plane.js';
import { createLogger } from '../src/log.js';
import { openRawAdsStream } from './support/ads-client.js';

const NODE = {
  id: 'sidecar~127.0.0.1~web-0.demo~demo.svc.cluster.local',
  metadata: { NAMESPACE: 'demo', SERVICE_ACCOUNT: 'web' },
};

/** The serial number of the certificate a fresh TLS handshake with `address` gets. */
function presentedSerial(address: string, rootPem: string): Promise<string> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.split(':').pop())];
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, ca: rootPem, ALPNProtocols: ['h2'], servername: 'localhost' }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.destroy();
      resolve(serial);
    });
    s.on('error', reject);
  });
}

describe('skeind serving certificate rotation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-serving-rotation-'));
  let cp: RunningControlPlane;

  beforeAll(async () => {
    writeFileSync(join(dir, 'tokens'), 'tok-web demo web\n');
    cp = await startControlPlane({
      configDir: join(dir, 'cfg'),
      xdsAddr: '127.0.0.1:0',
      httpAddr: '127.0.0.1:0',
      logger: createLogger('warn'),
      ca: {
        dir: join(dir, 'ca'),
        tokensFile: join(dir, 'tokens'),
        secureAddr: '127.0.0.1:0',
        servingTtlSeconds: 3,
      },
    });
  });

  afterAll(async () => {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reissues at half the lifetime; new handshakes get it, an open ADS stream keeps working', async () => {
    const ca = cp.ca!;
    const { client, stream } = openRawAdsStream(
      ca.address,
      grpc.credentials.createSsl(Buffer.from(ca.rootCertPem)),
      'tok-web',
      { 'grpc.ssl_target_name_override': 'localhost' },
    );
    let status: grpc.StatusObject | undefined;
    stream.on('status', (s: grpc.StatusObject) => (status = s));
    stream.on('error', () => undefined);
    const responses: Buffer[] = [];
    const waiters: (() => void)[] = [];
    stream.on('data', (b: Buffer) => {
      responses.push(b);
      waiters.splice(0).forEach((w) => w());
    });
    const ask = async (typeUrl: string): Promise<void> => {
      const before = responses.length;
      const got = new Promise<void>((r) => waiters.push(r));
      stream.write(
        toBinary(
          discoveryV3.DiscoveryRequestSchema,
          create(discoveryV3.DiscoveryRequestSchema, { typeUrl, node: NODE }),
        ),
      );
      await got;
      expect(responses.length).toBeGreaterThan(before);
    };
    try {
      await ask(TypeUrl.Cluster);
      const first = serialOf(ca.servingCertificate());
      expect(await presentedSerial(ca.address, ca.rootCertPem)).toBe(first.toUpperCase());

      // Three reissues (a 3 s lifetime is renewed every 1.5 s), each signalled by the CA.
      const serials: string[] = [];
      await new Promise<void>((resolve) =>
        ca.onServingRotated((serial) => {
          serials.push(serial);
          if (serials.length === 3) resolve();
        }),
      );
      expect(new Set([first, ...serials]).size).toBe(4);
      const now = serialOf(ca.servingCertificate());
      expect(await presentedSerial(ca.address, ca.rootCertPem)).toBe(now.toUpperCase());
      // The certificate the stream's connection was opened with has expired by now (4.5 s > 3 s);
      // the stream still answers.
      await ask(TypeUrl.Listener);
      expect(status).toBeUndefined();
    } finally {
      stream.cancel();
      client.close();
    }
  }, 30_000);
});
