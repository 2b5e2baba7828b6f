// Directory mode persistence of the CA material. A plug-in CA is the Istio cacerts layout in the
// directory itself (ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem); otherwise a
// self-signed root lives in <dir>/self-signed/, created once (atomically: several starters agree).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createRootCa,
  pluginCa,
  verifyMaterial,
  type CaMaterial,
  type RootOptions,
} from '../pki/ca-material.js';

export interface LoadedMaterial {
  material: CaMaterial;
  source: 'plugin' | 'self-signed (created)' | 'self-signed (existing)';
}

const read = (dir: string, f: string) => readFile(join(dir, f), 'utf8');

/** Loads the CA material from `dir`, creating and persisting a self-signed root on first start. */
export async function loadOrCreateDirectoryCa(dir: string, root: RootOptions): Promise<LoadedMaterial> {
  if (existsSync(join(dir, 'ca-key.pem')) && existsSync(join(dir, 'ca-cert.pem'))) {
    const material = await pluginCa({
      caCert: await read(dir, 'ca-cert.pem'),
      caKey: await read(dir, 'ca-key.pem'),
      rootCert: await read(dir, 'root-cert.pem'),
      ...(existsSync(join(dir, 'cert-chain.pem')) ? { certChain: await read(dir, 'cert-chain.pem') } : {}),
    });
    return { material, source: 'plugin' };
  }
  const selfDir = join(dir, 'self-signed');
  if (existsSync(selfDir))
    return { material: await readSelfSigned(selfDir), source: 'self-signed (existing)' };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const material = await createRootCa(root);
  const tmp = await mkdtemp(join(dir, '.self-signed-'));
  await writeFile(join(tmp, 'ca-key.pem'), material.caKeyPem, { mode: 0o600 });
  await writeFile(join(tmp, 'ca-cert.pem'), material.caCertPem);
  await writeFile(join(tmp, 'root-cert.pem'), material.rootCertPem);
  try {
    await rename(tmp, selfDir);
    return { material, source: 'self-signed (created)' };
  } catch {
    // Another starter won the race: use its root.
    await rm(tmp, { recursive: true, force: true });
    return { material: await readSelfSigned(selfDir), source: 'self-signed (existing)' };
  }
}

async function readSelfSigned(selfDir: string): Promise<CaMaterial> {
  const material = {
    caCertPem: await read(selfDir, 'ca-cert.pem'),
    caKeyPem: await read(selfDir, 'ca-key.pem'),
    chainPems: [],
    rootCertPem: await read(selfDir, 'root-cert.pem'),
  };
  verifyMaterial(material);
  return material;
}
