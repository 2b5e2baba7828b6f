// Serialized state-of-the-world DiscoveryResponses assembled from bytes encoded once: each
// resource's Any is serialized once (as its `resources` field entry) and reused by every
// response that carries it, so a response costs one concatenation, not a protobuf encoding.
import { toBinary } from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';

/** DiscoveryResponse field tags (wire type 2): version_info 1, resources 2, type_url 4, nonce 5, control_plane 6. */
const VERSION_INFO = 0x0a;
const RESOURCES = 0x12;
const TYPE_URL = 0x22;
const NONCE = 0x2a;
const CONTROL_PLANE = 0x32;
/** ControlPlane.identifier (field 1). */
const IDENTIFIER = 0x0a;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited field: tag, length, bytes. */
function field(tag: number, bytes: Uint8Array): Buffer {
  const head = [tag, ...varint(bytes.length)];
  const out = Buffer.allocUnsafe(head.length + bytes.length);
  out.set(head, 0);
  out.set(bytes, head.length);
  return out;
}

const entries = new WeakMap<Any, Buffer>();

/** The `resources` entry of an Any, serialized once per Any object. */
export function resourceEntry(any: Any): Buffer {
  let e = entries.get(any);
  if (!e) {
    e = field(RESOURCES, toBinary(AnySchema, any));
    entries.set(any, e);
  }
  return e;
}

const controlPlaneField = (identifier: string): Buffer =>
  field(CONTROL_PLANE, field(IDENTIFIER, Buffer.from(identifier)));

export interface SotwResponse {
  readonly versionInfo: string;
  readonly typeUrl: string;
  readonly resources: readonly Any[];
  readonly nonce: string;
  readonly controlPlane: string;
}

/** The DiscoveryResponse bytes, fields in field-number order (as a protobuf encoder writes them). */
export function encodeSotwResponse(r: SotwResponse): Buffer {
  const parts: Buffer[] = [];
  if (r.versionInfo) parts.push(field(VERSION_INFO, Buffer.from(r.versionInfo)));
  for (const a of r.resources) parts.push(resourceEntry(a));
  if (r.typeUrl) parts.push(field(TYPE_URL, Buffer.from(r.typeUrl)));
  if (r.nonce) parts.push(field(NONCE, Buffer.from(r.nonce)));
  parts.push(controlPlaneField(r.controlPlane));
  return Buffer.concat(parts);
}

/** DeltaDiscoveryResponse tags: system_version_info 1, resources 2, type_url 4, nonce 5, removed_resources 6, control_plane 7. */
const DELTA_REMOVED = 0x32;
const DELTA_CONTROL_PLANE = 0x3a;
/** Resource tags: version 1, resource 2, name 3, aliases 4. */
const RES_VERSION = 0x0a;
const RES_ANY = 0x12;
const RES_NAME = 0x1a;
const RES_ALIAS = 0x22;

export interface DeltaResource {
  readonly name: string;
  readonly version: string;
  readonly any: Any;
}

const deltaEntries = new WeakMap<DeltaResource, Buffer>();

/** The `resources` entry of a delta resource, serialized once per resource object (without aliases). */
function deltaEntry(r: DeltaResource, aliases: readonly string[]): Buffer {
  if (aliases.length === 0) {
    const hit = deltaEntries.get(r);
    if (hit) return hit;
  }
  const parts = [
    field(RES_VERSION, Buffer.from(r.version)),
    field(RES_ANY, toBinary(AnySchema, r.any)),
    field(RES_NAME, Buffer.from(r.name)),
    ...aliases.map((a) => field(RES_ALIAS, Buffer.from(a))),
  ];
  const e = field(RESOURCES, Buffer.concat(parts));
  if (aliases.length === 0) deltaEntries.set(r, e);
  return e;
}

export interface DeltaResponse {
  readonly systemVersionInfo: string;
  readonly typeUrl: string;
  readonly resources: readonly DeltaResource[];
  readonly removed: readonly string[];
  readonly nonce: string;
  readonly controlPlane: string;
  /** Resource name → the names it answers besides its own (VHDS on demand). */
  readonly aliases?: ReadonlyMap<string, readonly string[]> | undefined;
}

/**
 * The DeltaDiscoveryResponse bytes: each resource's entry is serialized once and shared by every
 * stream that receives the same resource, so a response costs one concatenation.
 */
export function encodeDeltaResponse(r: DeltaResponse): Buffer {
  const parts: Buffer[] = [];
  if (r.systemVersionInfo) parts.push(field(VERSION_INFO, Buffer.from(r.systemVersionInfo)));
  for (const x of r.resources) parts.push(deltaEntry(x, r.aliases?.get(x.name) ?? []));
  if (r.typeUrl) parts.push(field(TYPE_URL, Buffer.from(r.typeUrl)));
  if (r.nonce) parts.push(field(NONCE, Buffer.from(r.nonce)));
  for (const n of r.removed) parts.push(field(DELTA_REMOVED, Buffer.from(n)));
  parts.push(field(DELTA_CONTROL_PLANE, field(IDENTIFIER, Buffer.from(r.controlPlane))));
  return Buffer.concat(parts);
}
