import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connectFromSource, originalSourceUnavailable, originalSrcMark } from './original-src.js';

interface OriginalSrcModule {
  originalSourceUnavailable: typeof originalSourceUnavailable;
  connectFromSource: typeof connectFromSource;
}

describe('original_src', () => {
  it("reads the filter's mark from a listener's filters (by type or by name)", () => {
    const type = 'type.googleapis.com/envoy.extensions.filters.listener.original_src.v3.OriginalSrc';
    expect(originalSrcMark([{ name: 'x', typedConfig: { '@type': type, mark: 1337 } as never }])).toBe(1337);
    expect(originalSrcMark([{ name: 'envoy.filters.listener.original_src' }])).toBe(0);
    expect(originalSrcMark([{ name: 'envoy.filters.listener.original_dst' }])).toBeUndefined();
    expect(originalSrcMark(undefined)).toBeUndefined();
  });

  // The addon is built by `npm run build` (gcc); without it the reason is what the listener logs.
  it.skipIf(originalSourceUnavailable() !== undefined)(
    'connects from a given local source through the addon, and refuses a family mismatch',
    async () => {
      expect(connectFromSource({ address: '127.0.0.1', mark: 0 }, '::1', 80)).toEqual({
        error: 'source 127.0.0.1 and destination ::1 differ in address family',
      });
      const server = net.createServer((s) => s.end(`${s.remoteAddress}\n`)).listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      try {
        const r = connectFromSource(
          { address: '127.0.0.7', mark: 0 },
          '127.0.0.1',
          (server.address() as net.AddressInfo).port,
        );
        // IP_TRANSPARENT needs CAP_NET_ADMIN: without it the reason comes back instead of a socket.
        if ('error' in r) {
          expect(r.error).toMatch(/IP_TRANSPARENT: Operation not permitted/);
          return;
        }
        let text = '';
        r.socket.on('data', (d: Buffer) => (text += d.toString()));
        await new Promise((res) => r.socket.once('end', res));
        expect(text.trim()).toBe('127.0.0.7');
      } finally {
        server.close();
      }
    },
  );

  // The built module where no addon was built next to it (a machine without gcc): it says why and
  // hands back no socket, so callers connect from their own address.
  const built = fileURLToPath(new URL('../../dist/listener/original-src.js', import.meta.url));
  it.skipIf(!existsSync(built))('without the addon: the reason, and no socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skein-no-addon-'));
    try {
      mkdirSync(join(dir, 'listener'));
      copyFileSync(built, join(dir, 'listener', 'original-src.js'));
      if (existsSync(`${built}.map`))
        copyFileSync(`${built}.map`, join(dir, 'listener', 'original-src.js.map'));
      const m = (await import(join(dir, 'listener', 'original-src.js'))) as OriginalSrcModule;
      expect(m.originalSourceUnavailable()).toMatch(/transparent-socket.node\) is not built \(gcc missing\)/);
      expect(m.connectFromSource({ address: '127.0.0.7', mark: 0 }, '127.0.0.1', 1)).toEqual({
        error: m.originalSourceUnavailable(),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
