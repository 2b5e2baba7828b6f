// The HCM's connection timers on the HTTP/1 connections served by node:http (upgrades, CONNECT and
// HTTP/1.0 handed over by the raw codec, and `SKEIN_PROXY_HTTP1=legacy`), as on the raw codec
// (connection-timers.ts):
// - `request_headers_timeout` for every request of a kept-alive connection: armed at the first
//   byte of a request head, disarmed when node:http has parsed the head; 408 and close when it
//   fires. node:http normally feeds the socket's bytes to its parser natively, out of sight; here
//   the socket is marked as already consumed so that its bytes flow through 'data' events, where
//   a listener added before node:http's own sees each head begin;
// - `max_connection_duration`: an idle connection closes when it is reached, a busy one closes
//   after its response in progress (`connection: close` when its head is not yet sent), and at the
//   latest after the HCM's drain timeout; an upgraded connection (WebSocket) after the drain timeout.
import type net from 'node:net';
import type { ServerResponse } from 'node:http';
import { connectionLimitsOf, watchConnectionDuration } from './connection-timers.js';
import { replyHeaderTimeout } from './stream-timeouts.js';
import type { HcmJson } from './connection-manager.js';

export interface NodeHttpConnectionWatch {
  /** node:http parsed a request head: `res` is its response, none for an upgrade or CONNECT. */
  headComplete(res?: ServerResponse): void;
}

interface Handlers {
  onHeaderTimeout: () => void;
  onMaxDuration: () => void;
}

type StreamHandle = { _handle?: { _consumed?: boolean } | null };

/**
 * Watches one connection about to be handed to node:http (call before emitting 'connection').
 * `headersMs` 0: no request_headers_timeout.
 */
export function watchNodeHttpConnection(
  socket: net.Socket,
  hcm: HcmJson,
  headersMs: number,
  on: Handlers,
): NodeHttpConnectionWatch {
  // 'idle': between requests; 'head': a request head is arriving; 'busy': a request is being
  // answered; 'upgraded': the connection is no longer HTTP/1.
  let state: 'idle' | 'head' | 'busy' | 'upgraded' = 'idle';
  let headTimer: NodeJS.Timeout | undefined;
  let draining = false;
  if (headersMs > 0) {
    const handle = (socket as StreamHandle)._handle;
    if (handle) handle._consumed = true;
    socket.on('data', () => {
      if (state !== 'idle') return;
      state = 'head';
      headTimer = setTimeout(() => {
        on.onHeaderTimeout();
        replyHeaderTimeout(socket);
      }, headersMs).unref();
    });
  }
  const limits = connectionLimitsOf(hcm);
  const duration =
    limits.maxDurationMs > 0
      ? watchConnectionDuration(
          limits,
          {
            closeIfIdle: () => {
              draining = true;
              if (state === 'idle' || state === 'head') socket.end();
              const res = (socket as net.Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
              if (res && !res.headersSent) res.shouldKeepAlive = false;
            },
            destroy: () => socket.destroy(),
          },
          on.onMaxDuration,
        )
      : undefined;
  socket.once('close', () => {
    clearTimeout(headTimer);
    duration?.clear();
  });
  return {
    headComplete: (res) => {
      clearTimeout(headTimer);
      headTimer = undefined;
      if (!res) {
        state = 'upgraded';
        return;
      }
      state = 'busy';
      if (draining) res.shouldKeepAlive = false;
      const done = (): void => {
        if (state !== 'busy') return;
        state = 'idle';
        if (draining) socket.end();
      };
      res.once('finish', done);
      res.once('close', done);
    },
  };
}
