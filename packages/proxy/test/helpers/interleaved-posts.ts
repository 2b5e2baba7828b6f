// Two connections whose requests arrive interleaved in small pieces, 20 ms apart, so each read of
// one connection lands between reads of the other: the way to catch state shared by connections
// (a read buffer) leaking from one into the other. A sends POST /aaaa with body `aaaaaaaaaa`, B
// POST /bbbb with body `BBBBBBBBBB` followed by `bTail` (e.g. a pipelined request).
export async function interleavedPosts(
  a: { write(t: string, cb: () => void): unknown },
  b: { write(t: string, cb: () => void): unknown },
  bTail = '',
): Promise<void> {
  const write = (s: typeof a, t: string): Promise<void> => new Promise((r) => s.write(t, () => r()));
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));
  await write(a, 'POST /aaaa HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n');
  await settle();
  await write(b, 'POST /bbbb HTTP/1.1\r\nhost: b\r\ncontent-length: 10\r\n\r\nBBBBB');
  await settle();
  await write(a, '\r\naaaaa');
  await settle();
  await write(b, `BBBBB${bTail}`);
  await settle();
  await write(a, 'aaaaa');
}
