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
  /** Names the SDS server said it does not have (delta `removed_resources`) before sending them. */
  private readonly absent = new Set<string>();
  private readonly listeners = new Set<(name: string) => void>();

  get(name: string): SecretJson | undefined {
    return this.secrets.get(name);
  }

  /**
   * Whether a listener waiting for this secret stops waiting: it is here, or the server removed
   * it before ever sending it (Envoy's SDS init target completes then; the listener serves, and
   * its handshakes fail until the secret arrives).
   */
  settled(name: string): boolean {
    return this.secrets.has(name) || this.absent.has(name);
  }

  set(name: string, secret: SecretJson): void {
    this.absent.delete(name);
    const prev = this.secrets.get(name);
    if (prev && JSON.stringify(prev) === JSON.stringify(secret)) return;
    this.secrets.set(name, secret);
    for (const l of this.listeners) l(name);
  }

  /**
   * A delta SDS `removed_resources` name, handled as Envoy does (envoyproxy/envoy#32961): an SDS
   * secret is a singleton subscription that only goes away with the listener or cluster that
   * references it, so a removal is acknowledged and ignored — a secret held keeps serving. A
   * removal of a secret never received settles it (see `settled`). Returns whether it was held.
   */
  removedByServer(name: string): boolean {
    if (this.secrets.has(name)) return true;
    if (!this.absent.has(name)) {
      this.absent.add(name);
      for (const l of this.listeners) l(name);
    }
    return false;
  }

  delete(name: string): void {
    if (this.secrets.delete(name)) for (const l of this.listeners) l(name);
  }

  onChange(l: (name: string) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
