// Turns generated JSON resources into what goes on the wire: a version per resource from a hash
// of its content, and the protobuf Any, encoded once per distinct content and shared by every
// proxy that receives the same resource.
import { createHash } from 'node:crypto';
import { packAny } from '@skein/api-types';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { Resource } from '../translate/generators.js';

export interface EncodedResource {
  readonly name: string;
  readonly version: string;
  readonly any: Any;
}

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

/** A version for a whole response: the hash of its resources' names and versions. */
export function responseVersion(
  resources: readonly { readonly name: string; readonly version: string }[],
): string {
  return contentHash(resources.map((r) => `${r.name}@${r.version}`).join('\n'));
}

export class ResourceEncoder {
  private current = new Map<string, Any>();
  private previous = new Map<string, Any>();

  /** Forgets encodings not used since the last call (called once per push generation). */
  rotate(): void {
    this.previous = this.current;
    this.current = new Map();
  }

  encode(typeUrl: string, r: Resource): EncodedResource {
    const json = JSON.stringify(r.body);
    const version = contentHash(`${typeUrl}\n${json}`);
    let any = this.current.get(version) ?? this.previous.get(version);
    if (!any) any = packAny(typeUrl, r.body);
    this.current.set(version, any);
    return { name: r.name, version, any };
  }
}
