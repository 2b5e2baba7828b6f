// TLS secrets by name — static ones from the bootstrap and those fetched over SDS (or ADS) — with
// change notification so TLS contexts rebuild their SecureContext when a certificate rotates.
import { readFileSync } from 'node:fs';
import type { tlsSecretV3 } from '@skein/api-types';

export type SecretJson = tlsSecretV3.SecretJson;

/** An Envoy DataSource (inline string, inline bytes, file) as text. */
export function dataSourceText(
  ds: { inlineString?: string; inlineBytes?: string; filename?: string } | undefined,
): string | undefined {
  if (!ds) return undefined;
  if (ds.inlineString !== undefined) return ds.inlineString;
  if (ds.inlineBytes !== undefined) return Buffer.from(ds.inlineBytes, 'base64').toString('utf8');
  if (ds.filename !== undefined) return readFileSync(ds.filename, 'utf8');
  return undefined;
}

export class SecretStore {
  private readonly secrets = new Map<string, SecretJson>();
  private readonly listeners = new Set<(name: string) => void>();

  get(name: string): SecretJson | undefined {
    return this.secrets.get(name);
  }

  set(name: string, secret: SecretJson): void {
    const prev = this.secrets.get(name);
    if (prev && JSON.stringify(prev) === JSON.stringify(secret)) return;
    this.secrets.set(name, secret);
    for (const l of this.listeners) l(name);
  }

  delete(name: string): void {
    if (this.secrets.delete(name)) for (const l of this.listeners) l(name);
  }

  onChange(l: (name: string) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
