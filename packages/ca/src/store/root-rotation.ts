// Root CA rotation with overlap, directory mode (self-signed root). Three steps, each a rename in
// the CA directory, which a running CA picks up (watchDirectoryCa):
//   prepare — a new root is created in rotation/next/: trusted (in every trust bundle), not yet signing;
//   switch  — self-signed/ moves to rotation/previous/ and next/ becomes self-signed/: the new root
//             signs, the old one stays trusted, so certificates from either root keep working;
//   finish  — rotation/previous/ is removed: the old root leaves the trust bundle.
// Workloads pick up each bundle (SDS ROOTCA, the chain's last element) at their next certificate.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRootCa, type RootOptions } from '../pki/ca-material.js';
import type { CertificateAuthority } from '../pki/issue.js';
import { loadOrCreateDirectoryCa, type LoadedMaterial } from './directory-store.js';

export type RotationStep = 'prepare' | 'switch' | 'finish';

const SELF = 'self-signed';
const NEXT = join('rotation', 'next');
const PREVIOUS = join('rotation', 'previous');
const FILES = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem'] as const;

/** Performs one rotation step on the CA directory; returns what it did (for logs and the CLI). */
export async function rotateRoot(dir: string, step: RotationStep, root: RootOptions): Promise<string> {
  const has = (d: string): boolean => existsSync(join(dir, d));
  if (existsSync(join(dir, 'ca-key.pem')))
    throw new Error(
      `${dir} holds a plug-in CA: rotate it by replacing its cacerts (root rotation here is for the self-signed root)`,
    );
  await completeInterruptedSwitch(dir);
  switch (step) {
    case 'prepare': {
      if (!has(SELF)) throw new Error(`${dir} has no self-signed root to rotate`);
      if (has(NEXT) || has(PREVIOUS))
        throw new Error('a rotation is already in progress (switch or finish it)');
      await mkdir(join(dir, 'rotation'), { recursive: true, mode: 0o700 });
      // A distinct subject, so tools and logs tell the two roots of the overlap apart.
      const material = await createRootCa({
        ...root,
        commonName: `Skein root CA ${new Date(root.now ?? Date.now()).toISOString()}`,
      });
      const tmp = await mkdtemp(join(dir, 'rotation', '.next-'));
      await writeFile(join(tmp, 'ca-key.pem'), material.caKeyPem, { mode: 0o600 });
      await writeFile(join(tmp, 'ca-cert.pem'), material.caCertPem);
      await writeFile(join(tmp, 'root-cert.pem'), material.rootCertPem);
      await rename(tmp, join(dir, NEXT));
      return 'new root created in rotation/next: trusted, not yet signing';
    }
    case 'switch':
      if (!has(NEXT)) throw new Error('no prepared root (run the prepare step first)');
      if (has(PREVIOUS)) throw new Error('the previous rotation is not finished (run the finish step first)');
      await rename(join(dir, SELF), join(dir, PREVIOUS));
      await rename(join(dir, NEXT), join(dir, SELF));
      return 'the new root signs; the previous root stays trusted until the finish step';
    case 'finish':
      if (!has(PREVIOUS)) throw new Error('no previous root to drop (run the switch step first)');
      await rm(join(dir, PREVIOUS), { recursive: true, force: true });
      return 'the previous root is dropped from the trust bundle';
  }
}

/** A switch stopped between its two renames (self-signed/ gone, next/ still there) is completed. */
async function completeInterruptedSwitch(dir: string): Promise<void> {
  if (!existsSync(join(dir, SELF)) && existsSync(join(dir, NEXT)) && existsSync(join(dir, PREVIOUS)))
    await rename(join(dir, NEXT), join(dir, SELF));
}

export interface DirectoryCaState {
  loaded: LoadedMaterial;
  /** Roots trusted besides the signing one: the prepared next root and the previous root. */
  extraRoots: string[];
}

/** The CA directory's signing material and the other roots a rotation in progress trusts. */
export async function loadDirectoryCaState(dir: string, root: RootOptions): Promise<DirectoryCaState> {
  await completeInterruptedSwitch(dir);
  const loaded = await loadOrCreateDirectoryCa(dir, root);
  const extraRoots: string[] = [];
  for (const d of [NEXT, PREVIOUS])
    if (existsSync(join(dir, d, 'root-cert.pem')))
      extraRoots.push(await readFile(join(dir, d, 'root-cert.pem'), 'utf8'));
  return { loaded, extraRoots };
}

/** A digest of the directory's CA files: it changes with every rotation step or replaced file. */
export async function directoryCaSignature(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const d of ['.', SELF, NEXT, PREVIOUS])
    for (const f of [...FILES, 'cert-chain.pem']) {
      const p = join(dir, d, f);
      h.update(`${p}\0`);
      if (existsSync(p)) h.update(await readFile(p).catch(() => Buffer.alloc(0)));
    }
  return h.digest('hex');
}

export interface DirectoryCaWatch {
  /** Re-reads the directory now; true when the CA changed. */
  reload(): Promise<boolean>;
  stop(): void;
}

/**
 * Keeps a running CA in step with its directory: every `intervalMs` (and on `reload()`), a changed
 * directory is loaded and the CA updated (signing material and trust bundle together).
 */
export function watchDirectoryCa(
  dir: string,
  ca: CertificateAuthority,
  o: {
    root: RootOptions;
    intervalMs?: number;
    log?: (msg: string, fields?: Record<string, unknown>) => void;
  },
): DirectoryCaWatch {
  let last: Promise<string> = directoryCaSignature(dir);
  let chain: Promise<unknown> = Promise.resolve();
  const reload = (): Promise<boolean> => {
    const run = chain.then(async () => {
      const sig = await directoryCaSignature(dir);
      if (sig === (await last)) return false;
      const state = await loadDirectoryCaState(dir, o.root);
      await ca.update(state.loaded.material, state.extraRoots);
      last = Promise.resolve(sig);
      o.log?.('CA reloaded from its directory', {
        roots: ca.trustedRoots.length,
        source: state.loaded.source,
      });
      return true;
    });
    chain = run.catch(() => undefined);
    return run;
  };
  const timer = setInterval(
    () => void reload().catch((e: Error) => o.log?.('CA directory reload failed', { error: e.message })),
    o.intervalMs ?? 5000,
  );
  timer.unref();
  return { reload, stop: () => clearInterval(timer) };
}
