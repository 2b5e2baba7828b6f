// Raw writes under a real grpc-js server and client on loopback: messages framed once and written
// straight onto the HTTP/2 stream arrive intact and in order among grpc-js's own writes, and the
// writer declines (the caller then goes through grpc-js) before the response headers are sent and
// while grpc-js has a message of its own in flight.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { GRPC_HEADER_BYTES, grpcFramed, rawWriter, type RawWrite } from './raw-write.js';

const bytes = (b: Buffer): Buffer => b;
const definition: grpc.ServiceDefinition = {
  chat: {
    path: '/skein.test.Raw/Chat',
    requestStream: true,
    responseStream: true,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  },
};
const Client = grpc.makeGenericClientConstructor(definition, 'Raw');
type Duplex = grpc.ServerDuplexStream<Buffer, Buffer>;

describe('rawWriter', () => {
  let server: grpc.Server | undefined;
  let client: grpc.Client | undefined;
  afterEach(async () => {
    client?.close();
    await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
  });

  /** Runs `serve` on the server side of one call; returns the messages the client received. */
  const exchange = async (serve: (stream: Duplex) => Promise<void>): Promise<string[]> => {
    server = new grpc.Server();
    server.addService(definition, {
      chat: (stream: Duplex) =>
        void stream.once('data', () =>
          serve(stream).then(
            () => stream.end(),
            (err: unknown) => stream.destroy(err as Error),
          ),
        ),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server?.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const call = (client as unknown as { chat: () => grpc.ClientDuplexStream<Buffer, Buffer> }).chat();
    const got: string[] = [];
    call.on('data', (m: Buffer) => got.push(m.toString()));
    call.write(Buffer.from('hello'));
    await new Promise<void>((resolve, reject) => {
      call.on('error', reject);
      call.on('end', resolve);
    });
    call.end();
    return got;
  };

  const framed = (text: string): Buffer =>
    grpcFramed([Buffer.from(text.slice(0, 1)), Buffer.from(text.slice(1))]);

  it('frames a message behind the 5-byte gRPC header', () => {
    const f = framed('abc');
    expect([...f.subarray(0, GRPC_HEADER_BYTES)]).toEqual([0, 0, 0, 0, 3]);
    expect(f.subarray(GRPC_HEADER_BYTES).toString()).toBe('abc');
  });

  it('writes below grpc-js only when grpc-js would write the same bytes next, keeping the order', async () => {
    const taken: boolean[] = [];
    const got = await exchange(async (stream) => {
      const raw = rawWriter(stream as grpc.ServerDuplexStream<unknown, unknown>) as RawWrite;
      expect(raw).toBeTypeOf('function');
      const flushed: Promise<void>[] = [];
      // Through the raw writer when it takes the message, else through grpc-js (unframed).
      const send = (text: string): void => {
        const f = framed(text);
        let done!: () => void;
        flushed.push(new Promise<void>((resolve) => (done = resolve)));
        const ok = raw(f, () => done());
        taken.push(ok);
        if (!ok) stream.write(f.subarray(GRPC_HEADER_BYTES), () => done());
      };
      send('r0'); // no response headers yet: grpc-js sends them with its first message
      stream.write(Buffer.from('g1')); // queued in grpc-js behind r0
      send('r2'); // must not overtake g1
      await Promise.all(flushed);
      send('r3');
      send('r4');
      stream.write(Buffer.from('g5')); // grpc-js idle: straight behind r3 and r4
      send('r6'); // g5 in flight in grpc-js: through grpc-js too
      await Promise.all(flushed);
      send('r7');
      await Promise.all(flushed);
    });
    expect(got).toEqual(['r0', 'g1', 'r2', 'r3', 'r4', 'g5', 'r6', 'r7']);
    expect(taken).toEqual([false, false, true, true, false, true]);
  });

  it('declines a call object that is not grpc-js’s plain server call', () => {
    expect(rawWriter({ call: {} } as unknown as grpc.ServerDuplexStream<unknown, unknown>)).toBeUndefined();
  });
});
