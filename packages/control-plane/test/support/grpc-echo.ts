// A real gRPC backend for interop tests: one unary method that answers with the backend's name,
// optionally failing every other call (for retries) or answering slowly (for timeouts).
import * as grpc from '@grpc/grpc-js';

const identity = (b: Buffer): Buffer => b;

export const echoService: grpc.ServiceDefinition = {
  call: {
    path: '/skein.test.Echo/Call',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export interface EchoBackend {
  readonly name: string;
  port: number;
  calls: number;
  close(): Promise<void>;
}

export async function startEcho(
  name: string,
  behaviour: { failEveryOther?: boolean; delayMs?: number } = {},
): Promise<EchoBackend> {
  const server = new grpc.Server();
  const backend = { name, port: 0, calls: 0, close: async () => {} } as EchoBackend;
  server.addService(echoService, {
    call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      backend.calls++;
      if (behaviour.failEveryOther && backend.calls % 2 === 1) {
        cb({ code: grpc.status.UNAVAILABLE, details: `${name}: failing this attempt` });
        return;
      }
      const reply = (): void => cb(null, Buffer.from(name));
      if (behaviour.delayMs) setTimeout(reply, behaviour.delayMs);
      else reply();
    },
  });
  backend.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
  backend.close = () => new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  return backend;
}

const EchoClient = grpc.makeGenericClientConstructor(echoService, 'Echo');

export type EchoResult = { ok: true; backend: string; ms: number } | { ok: false; code: number; ms: number };

export function echoClient(target: string): {
  call(headers?: Record<string, string>, deadlineMs?: number): Promise<EchoResult>;
  close(): void;
} {
  const client = new EchoClient(target, grpc.credentials.createInsecure());
  return {
    call: (headers = {}, deadlineMs = 5000) =>
      new Promise((resolve) => {
        const md = new grpc.Metadata();
        for (const [k, v] of Object.entries(headers)) md.set(k, v);
        const start = performance.now();
        (
          client as unknown as {
            call: (
              req: Buffer,
              md: grpc.Metadata,
              opts: grpc.CallOptions,
              cb: (err: grpc.ServiceError | null, res?: Buffer) => void,
            ) => void;
          }
        ).call(Buffer.from('ping'), md, { deadline: Date.now() + deadlineMs }, (err, res) => {
          const ms = performance.now() - start;
          resolve(err ? { ok: false, code: err.code, ms } : { ok: true, backend: res?.toString() ?? '', ms });
        });
      }),
    close: () => client.close(),
  };
}
