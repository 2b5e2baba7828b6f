// Node's `stream_wrap` binding (its WriteWrap and the write state a stream handle reports), which
// the direct writes to a plain TCP handle and to a TLS handle use; null where it is not offered.

/** A libuv write request: Node's WriteWrap, whose `oncomplete` runs when an async write ends. */
export interface WriteReq<S> {
  oncomplete: (status: number) => void;
  buffer: Uint8Array | string | null;
  socket: S | null;
}

export interface StreamWrapBinding<S> {
  WriteWrap: new () => WriteReq<S>;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

let binding: StreamWrapBinding<unknown> | null | undefined;

/** The binding, loaded once. */
export function streamWrap<S>(): StreamWrapBinding<S> | null {
  if (binding !== undefined) return binding as StreamWrapBinding<S> | null;
  binding = null;
  try {
    const load = (process as unknown as { binding?: (name: string) => Partial<StreamWrapBinding<unknown>> })
      .binding;
    const b = load?.call(process, 'stream_wrap');
    if (
      b &&
      typeof b.WriteWrap === 'function' &&
      b.streamBaseState instanceof Int32Array &&
      typeof b.kLastWriteWasAsync === 'number'
    )
      binding = b as StreamWrapBinding<unknown>;
  } catch {
    binding = null;
  }
  return binding as StreamWrapBinding<S> | null;
}
