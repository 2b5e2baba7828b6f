// Request deserializers for ADS that read a plain ACK without the general protobuf decoder: a
// request holding only strings (type URL, nonce and, for SotW, version and resource names) is
// read field by field into the same message the full decoder would make; any other request (a
// node, an error detail, subscriptions, a map, non-ASCII text) goes to the full decoder. A known
// type URL comes back as the one string held for it (per-type maps then find it without hashing
// a fresh string).
import { fromBinary } from '@bufbuild/protobuf';
import { discoveryV3, TypeUrl } from '@skein/api-types';
import { VIRTUAL_HOST_TYPE } from '../translate/vhds.js';

type DiscoveryRequest = discoveryV3.DiscoveryRequest;
type DeltaDiscoveryRequest = discoveryV3.DeltaDiscoveryRequest;

/** Wire tags (field number << 3 | 2, length-delimited). */
const SOTW_VERSION_INFO = 0x0a;
const SOTW_RESOURCE_NAMES = 0x1a;
const SOTW_TYPE_URL = 0x22;
const SOTW_RESPONSE_NONCE = 0x2a;
const DELTA_TYPE_URL = 0x12;
const DELTA_RESPONSE_NONCE = 0x32;

/** Empty repeated and map fields of the fast path: shared, frozen (no reader mutates a request). */
const NONE: never[] = Object.freeze([]) as unknown as never[];
const NO_VERSIONS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** A reused cursor over one message: tag, then the [start, end) of its string. */
interface Field {
  tag: number;
  start: number;
  end: number;
}

/**
 * The next length-delimited ASCII field at `pos` into `f`; the position after it, or -1 when the
 * field is something the fast path does not read (a multi-byte tag, another wire type, a length
 * past the end, a byte ≥ 0x80 in the text).
 */
function next(b: Uint8Array, pos: number, f: Field): number {
  const tag = b[pos++];
  if (tag === undefined || tag >= 0x80 || (tag & 7) !== 2) return -1;
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    const x = b[pos++];
    if (x === undefined || shift > 21) return -1;
    len |= (x & 0x7f) << shift;
    if (x < 0x80) break;
  }
  const end = pos + len;
  if (end > b.length) return -1;
  for (let i = pos; i < end; i++) if ((b[i] as number) >= 0x80) return -1;
  f.tag = tag;
  f.start = pos;
  f.end = end;
  return end;
}

const text = (b: Buffer, f: Field): string => b.toString('latin1', f.start, f.end);

/** The type URLs skeind serves, as strings and bytes (ASCII). */
const KNOWN: readonly { readonly s: string; readonly b: Buffer }[] = [
  ...new Set([...Object.values(TypeUrl), VIRTUAL_HOST_TYPE]),
].map((s) => ({ s, b: Buffer.from(s, 'latin1') }));

/** The field's text, the held string when it is a known type URL (compared from the end: they share prefixes). */
function typeUrlText(b: Buffer, f: Field): string {
  const len = f.end - f.start;
  for (const k of KNOWN) {
    if (k.b.length !== len) continue;
    let i = len - 1;
    while (i >= 0 && k.b[i] === b[f.start + i]) i--;
    if (i < 0) return k.s;
  }
  return text(b, f);
}

/** A DeltaDiscoveryRequest: an ACK or NACK-free request of type URL and nonce read directly. */
export function decodeDeltaRequest(b: Buffer): DeltaDiscoveryRequest {
  let typeUrl = '';
  let responseNonce = '';
  const f: Field = { tag: 0, start: 0, end: 0 };
  for (let pos = 0; pos < b.length;) {
    pos = next(b, pos, f);
    if (pos < 0) return fromBinary(discoveryV3.DeltaDiscoveryRequestSchema, b);
    if (f.tag === DELTA_TYPE_URL) typeUrl = typeUrlText(b, f);
    else if (f.tag === DELTA_RESPONSE_NONCE) responseNonce = text(b, f);
    else return fromBinary(discoveryV3.DeltaDiscoveryRequestSchema, b);
  }
  return {
    $typeName: 'envoy.service.discovery.v3.DeltaDiscoveryRequest',
    typeUrl,
    resourceNamesSubscribe: NONE,
    resourceNamesUnsubscribe: NONE,
    resourceLocatorsSubscribe: NONE,
    resourceLocatorsUnsubscribe: NONE,
    initialResourceVersions: NO_VERSIONS,
    responseNonce,
  };
}

/** A DiscoveryRequest of version, resource names, type URL and nonce, read directly. */
export function decodeSotwRequest(b: Buffer): DiscoveryRequest {
  let versionInfo = '';
  let typeUrl = '';
  let responseNonce = '';
  const resourceNames: string[] = [];
  const f: Field = { tag: 0, start: 0, end: 0 };
  for (let pos = 0; pos < b.length;) {
    pos = next(b, pos, f);
    if (pos < 0) return fromBinary(discoveryV3.DiscoveryRequestSchema, b);
    if (f.tag === SOTW_VERSION_INFO) versionInfo = text(b, f);
    else if (f.tag === SOTW_RESOURCE_NAMES) resourceNames.push(text(b, f));
    else if (f.tag === SOTW_TYPE_URL) typeUrl = typeUrlText(b, f);
    else if (f.tag === SOTW_RESPONSE_NONCE) responseNonce = text(b, f);
    else return fromBinary(discoveryV3.DiscoveryRequestSchema, b);
  }
  return {
    $typeName: 'envoy.service.discovery.v3.DiscoveryRequest',
    versionInfo,
    resourceNames,
    resourceLocators: NONE,
    typeUrl,
    responseNonce,
  };
}
