// Top-level fields of an xDS resource that this proxy's Envoy API (the protos @skein/api-types was
// generated from) does not know: a newer control plane's fields, which protobuf decoding would
// drop without a word (e.g. a Cluster's `transport_socket_matcher`, Envoy 1.37). Found by reading
// the resource's wire format tag by tag; the delta `Resource` wrapper is looked through.
import { messageDesc } from '@skein/api-types';

const RESOURCE_WRAPPER = 'type.googleapis.com/envoy.service.discovery.v3.Resource';

interface Field {
  number: number;
  /** The bytes of a length-delimited field's value. */
  bytes?: Uint8Array;
}

/** The top-level fields of a message in wire format, or undefined if it cannot be read. */
function topLevelFields(buf: Uint8Array): Field[] | undefined {
  const out: Field[] = [];
  let i = 0;
  const varint = (): number | undefined => {
    let v = 0;
    let mul = 1;
    for (let n = 0; n < 10 && i < buf.length; n++) {
      const b = buf[i++]!;
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 128;
    }
    return undefined;
  };
  while (i < buf.length) {
    const tag = varint();
    if (tag === undefined) return undefined;
    const number = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) {
      if (varint() === undefined) return undefined;
      out.push({ number });
    } else if (wire === 1 || wire === 5) {
      i += wire === 1 ? 8 : 4;
      out.push({ number });
    } else if (wire === 2) {
      const len = varint();
      if (len === undefined || i + len > buf.length) return undefined;
      out.push({ number, bytes: buf.subarray(i, i + len) });
      i += len;
    } else {
      return undefined; // groups: not in xDS
    }
  }
  return i === buf.length ? out : undefined;
}

function fieldNumber(typeUrl: string, name: string): number | undefined {
  return messageDesc(typeUrl).fields.find((f) => f.name === name)?.number;
}

/**
 * Field numbers at the top of a resource (an Any's type URL and value) that its message type does
 * not define, sorted; [] when there are none, the type is unknown to the registry, or (with
 * `only`) the resource is of another type.
 */
export function unknownFieldNumbers(typeUrl: string, value: Uint8Array, only?: string): number[] {
  let type = typeUrl;
  let bytes = value;
  try {
    if (typeUrl === RESOURCE_WRAPPER) {
      const resource = topLevelFields(value)?.find((f) => f.number === fieldNumber(typeUrl, 'resource'));
      if (!resource?.bytes) return [];
      const any = topLevelFields(resource.bytes);
      const url = any?.find((f) => f.number === 1)?.bytes;
      const inner = any?.find((f) => f.number === 2)?.bytes;
      if (!url) return [];
      type = new TextDecoder().decode(url);
      bytes = inner ?? new Uint8Array();
    }
    if (only !== undefined && type !== only) return [];
    const known = new Set(messageDesc(type).fields.map((f) => f.number));
    const fields = topLevelFields(bytes) ?? [];
    return [...new Set(fields.map((f) => f.number).filter((n) => !known.has(n)))].sort((a, b) => a - b);
  } catch {
    return [];
  }
}
