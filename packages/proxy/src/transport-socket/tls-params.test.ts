import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { tlsV3 } from '@skein/api-types';
import { makePki } from '../../test/helpers/certs.js';
import { SecretStore } from './secret-store.js';
import { compileTlsContext } from './tls-context.js';
import { protocolRange } from './tls-params.js';

const pki = makePki();
const leaf = pki.leaf('', { dns: ['params.test'] });
afterAll(() => pki.cleanup());

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

type Params = { tlsMinimumProtocolVersion?: string; tlsMaximumProtocolVersion?: string };

function context(kind: 'downstream' | 'upstream', tlsParams?: Params) {
  const json = {
    commonTlsContext: {
      ...(kind === 'downstream'
        ? {
            tlsCertificates: [
              { certificateChain: { inlineString: leaf.cert }, privateKey: { inlineString: leaf.key } },
            ],
          }
        : {}),
      ...(tlsParams ? { tlsParams } : {}),
    },
  } as tlsV3.DownstreamTlsContextJson;
  return compileTlsContext(json, kind, new SecretStore());
}

/** The protocol a client with `client` params and a server with `server` params agree on, or the error. */
async function negotiate(client: Params | undefined, server: Params | undefined): Promise<string> {
  // As the listener does: the accepted socket wrapped in a server TLSSocket with the context's SecureContext.
  const secureContext = context('downstream', server).secureContext();
  const srv = net.createServer((s) => {
    sockets.push(s);
    const t = new tls.TLSSocket(s, { isServer: true, secureContext });
    t.on('error', () => s.destroy());
  });
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as net.AddressInfo;
  const c = tls.connect({
    port,
    host: '127.0.0.1',
    secureContext: context('upstream', client).secureContext()!,
    rejectUnauthorized: false,
  });
  sockets.push(c);
  return await new Promise<string>((resolve) => {
    c.once('secureConnect', () => resolve(c.getProtocol() ?? ''));
    c.once('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
  });
}

describe('tls_params protocol versions', () => {
  it('maps Envoy names to Node versions, TLS_AUTO and unset to the defaults', () => {
    expect(protocolRange(undefined)).toEqual({ minVersion: 'TLSv1.2' });
    expect(
      protocolRange({ tlsMinimumProtocolVersion: 'TLS_AUTO', tlsMaximumProtocolVersion: 'TLS_AUTO' }),
    ).toEqual({
      minVersion: 'TLSv1.2',
    });
    expect(protocolRange({ tlsMinimumProtocolVersion: 'TLSv1_3' })).toEqual({ minVersion: 'TLSv1.3' });
    expect(
      protocolRange({ tlsMinimumProtocolVersion: 'TLSv1_0', tlsMaximumProtocolVersion: 'TLSv1_2' }),
    ).toEqual({
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.2',
    });
  });

  it('rejects a minimum above the maximum (the context does not compile)', () => {
    expect(() =>
      protocolRange({ tlsMinimumProtocolVersion: 'TLSv1_3', tlsMaximumProtocolVersion: 'TLSv1_2' }),
    ).toThrow(/tls_minimum_protocol_version TLSv1_3 is above tls_maximum_protocol_version TLSv1_2/);
    expect(() =>
      context('upstream', { tlsMinimumProtocolVersion: 'TLSv1_3', tlsMaximumProtocolVersion: 'TLSv1_2' }),
    ).toThrow();
  });

  it('negotiates TLS 1.3 by default, TLS 1.2 when a side sets it as its maximum', async () => {
    expect(await negotiate(undefined, undefined)).toBe('TLSv1.3');
    expect(await negotiate({ tlsMaximumProtocolVersion: 'TLSv1_2' }, undefined)).toBe('TLSv1.2');
    expect(await negotiate(undefined, { tlsMaximumProtocolVersion: 'TLSv1_2' })).toBe('TLSv1.2');
  });

  it('refuses a peer below the minimum', async () => {
    const r = await negotiate(
      { tlsMaximumProtocolVersion: 'TLSv1_2' },
      { tlsMinimumProtocolVersion: 'TLSv1_3' },
    );
    expect(r).toMatch(/^error /);
  });
});
