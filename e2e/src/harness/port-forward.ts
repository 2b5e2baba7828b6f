/**
 * Forwards a loopback port to a pod's port through the API server (`kubectl port-forward`):
 * each connection accepted on 127.0.0.1:<local> becomes one forwarded stream.
 */
import { PortForward } from '@kubernetes/client-node';
import { once } from 'node:events';
import * as net from 'node:net';
import type { Cluster } from './cluster.js';

export interface Forward {
  readonly localPort: number;
  close(): Promise<void>;
}

export async function portForward(
  cluster: Cluster,
  namespace: string,
  pod: string,
  podPort: number,
): Promise<Forward> {
  const forwarder = new PortForward(cluster.kubeconfig);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    forwarder.portForward(namespace, pod, [podPort], socket, null, socket).catch(() => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    localPort: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
