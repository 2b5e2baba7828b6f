// Turns generated JSON resources into what goes on the wire: a version per resource from a hash
// of its content, and the protobuf Any, encoded once per distinct content and shared by every
// proxy that receives the same resource. A route configuration is encoded virtual host by
// virtual host, so a change to one host re-encodes that host, not the thousand beside it.
import { createHash } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import { encodeJson, TypeUrl } from '@skein/api-types';
import type { Resource } from '../translate/generators.js';

export interface EncodedResource {
  readonly name: string;
  readonly version: string;
  readonly any: Any;
}

/** A list made from `from` by re-encoding `places` (ascending), the names unchanged. */
export interface ListPatch {
  readonly from: readonly EncodedResource[];
  readonly places: readonly number[];
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

const VIRTUAL_HOST = 'envoy.config.route.v3.VirtualHost';

/** A length-delimited protobuf field (wire type 2): tag, varint length, bytes. */
function lengthDelimited(field: number, bytes: Uint8Array): Buffer {
  const head: number[] = [(field << 3) | 2];
  for (let n = bytes.length; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      head.push(n);
      break;
    }
    head.push((n & 0x7f) | 0x80);
  }
  const out = Buffer.allocUnsafe(head.length + bytes.length);
  out.set(head, 0);
  out.set(bytes, head.length);
  return out;
}

export class ResourceEncoder {
  private current = new Map<string, Any>();
  private previous = new Map<string, Any>();
  /** Encoded `virtual_hosts` entries by their JSON, for the same two generations. */
  private hosts = new Map<string, Buffer>();
  private previousHosts = new Map<string, Buffer>();

  /** Forgets encodings not used since the last call (called once per push generation). */
  rotate(): void {
    this.previous = this.current;
    this.current = new Map();
    this.previousHosts = this.hosts;
    this.hosts = new Map();
  }

  /**
   * Version and Any by body object and type: generated bodies are never mutated, and memoized
   * translation (vhost-memo) hands out the same object for the same content, so it is not
   * stringified and hashed again.
   */
  private readonly byBody = new Map<string, WeakMap<object, EncodedResource>>();

  /**
   * The encoded resource. The same body under the same name gives the same object (per class and
   * push, a thousand unchanged resources are looked up, not rebuilt).
   */
  encode(typeUrl: string, r: Resource): EncodedResource {
    let seen = this.byBody.get(typeUrl);
    if (!seen) this.byBody.set(typeUrl, (seen = new WeakMap()));
    const hit = seen.get(r.body);
    if (hit) {
      this.current.set(hit.version, hit.any);
      return hit.name === r.name ? hit : { name: r.name, version: hit.version, any: hit.any };
    }
    const out = this.encodeNew(typeUrl, r);
    seen.set(r.body, out);
    return out;
  }

  /**
   * A generated list, encoded. With `previous` (the list generated for the same proxy class and
   * subscription one snapshot before, and its encoding), a resource with the same name and body
   * object at the same place takes the previous encoding as it is: a class's list that was patched
   * from its predecessor (one virtual host of a thousand regenerated) is encoded at the patched
   * places only, not looked up a thousand times. The result equals `list.map(encode)`.
   */
  encodeList(
    typeUrl: string,
    list: readonly Resource[],
    previous?: { readonly generated: readonly Resource[]; readonly encoded: readonly EncodedResource[] },
  ): EncodedResource[] {
    const before = previous?.generated;
    const encoded = previous?.encoded;
    if (!before || !encoded || before.length !== list.length || encoded.length !== list.length)
      return list.map((r) => this.encode(typeUrl, r));
    const out = new Array<EncodedResource>(list.length);
    const places: number[] = [];
    let sameNames = true;
    for (let i = 0; i < list.length; i++) {
      const r = list[i] as Resource;
      const p = before[i] as Resource;
      if (r === p || (r.body === p.body && r.name === p.name)) out[i] = encoded[i] as EncodedResource;
      else {
        out[i] = this.encode(typeUrl, r);
        places.push(i);
        if (r.name !== (encoded[i] as EncodedResource).name) sameNames = false;
      }
    }
    if (sameNames) this.patches.set(out, { from: encoded, places });
    return out;
  }

  /**
   * Lists `encodeList` patched from a previous encoding with the same name at every place: that
   * encoding and the places encoded anew (every other place holds the very object it held).
   */
  private readonly patches = new WeakMap<readonly EncodedResource[], ListPatch>();

  /** How `list` was patched from its predecessor, when `encodeList` made it so. */
  patchOf(list: readonly EncodedResource[]): ListPatch | undefined {
    return this.patches.get(list);
  }

  private encodeNew(typeUrl: string, r: Resource): EncodedResource {
    const json = JSON.stringify(r.body);
    const version = contentHash(`${typeUrl}\n${json}`);
    let any = this.current.get(version) ?? this.previous.get(version);
    if (!any) any = create(AnySchema, { typeUrl, value: this.bytes(typeUrl, r.body) });
    this.current.set(version, any);
    return { name: r.name, version, any };
  }

  /**
   * The protobuf bytes of a resource. A RouteConfiguration is its other fields followed by its
   * `virtual_hosts` entries (field 2), each encoded once: the same message (protobuf fields may
   * come in any order), at a fraction of the cost when one host of many changed.
   */
  private bytes(typeUrl: string, body: object): Uint8Array {
    const vhosts = (body as { virtualHosts?: unknown }).virtualHosts;
    if (typeUrl !== TypeUrl.RouteConfiguration || !Array.isArray(vhosts) || vhosts.length < 2)
      return encodeJson(typeUrl, body);
    const { virtualHosts: _, ...rest } = body as { virtualHosts: unknown[] };
    const parts: Uint8Array[] = [encodeJson(typeUrl, rest)];
    for (const vh of vhosts) {
      const json = JSON.stringify(vh);
      let entry = this.hosts.get(json) ?? this.previousHosts.get(json);
      if (!entry) entry = lengthDelimited(2, encodeJson(VIRTUAL_HOST, vh));
      this.hosts.set(json, entry);
      parts.push(entry);
    }
    return Buffer.concat(parts);
  }
}
