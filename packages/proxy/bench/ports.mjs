// Loopback ports for the bench scripts: one the kernel just gave out, and waiting until a started
// target accepts on its port (or answers HTTP there).
import net from 'node:net';

/** A loopback port the kernel just gave out (free when this resolves). */
export async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

/** Resolves once 127.0.0.1:`port` accepts a connection; tries every 50 ms, `tries` times. */
export async function waitPort(port, tries = 200) {
  for (let i = 0; i < tries; i++) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} never opened`);
}

/** Resolves once http://127.0.0.1:`port`/ answers (any status); tries every 50 ms, 600 times. */
export async function waitAnswers(port, what) {
  for (let tries = 0; ; tries++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { headers: { host: 'bench' } });
      return;
    } catch {
      if (tries >= 600) throw new Error(`${what} never answered on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
