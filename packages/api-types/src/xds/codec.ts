// Binary and canonical-JSON conversion of xDS messages, and google.protobuf.Any packing by
// type URL, over the registry of every generated message.
import {
  create,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMessage,
  type JsonValue,
  type MessageShape,
} from '@bufbuild/protobuf';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import { xdsRegistry } from '../gen/registry.js';
import { messageNameOf } from './type-urls.js';
import { realDesc } from './lazy-desc.js';

export { xdsRegistry };

const jsonRead = { registry: xdsRegistry, ignoreUnknownFields: false } as const;
const jsonWrite = { registry: xdsRegistry } as const;

/** The descriptor of a message by full name or type URL, or an error naming it. */
export function messageDesc(nameOrTypeUrl: string): DescMessage {
  const desc = xdsRegistry.getMessage(messageNameOf(nameOrTypeUrl));
  if (!desc) throw new Error(`unknown message type ${nameOrTypeUrl}`);
  return desc;
}

// The generated schemas are lazy stand-ins (lazy-desc.ts): the library sees their built objects.

/** Parses canonical proto3 JSON (camelCase or original field names) into a message. */
export function messageFromJson<D extends DescMessage>(schema: D, json: unknown): MessageShape<D> {
  return fromJson(realDesc(schema), json as JsonValue, jsonRead);
}

/** Canonical proto3 JSON of a message (Any unpacked with its "@type"). */
export function messageToJson<D extends DescMessage>(schema: D, msg: MessageShape<D>): JsonValue {
  return toJson(realDesc(schema), msg, jsonWrite);
}

/** Encodes a JSON-shaped resource of the given type URL to protobuf binary. */
export function encodeJson(typeUrl: string, json: unknown): Uint8Array {
  const desc = messageDesc(typeUrl);
  return toBinary(desc, fromJson(desc, json as JsonValue, jsonRead));
}

/** Decodes protobuf binary of the given type URL to canonical JSON. */
export function decodeToJson(typeUrl: string, bytes: Uint8Array): JsonValue {
  const desc = messageDesc(typeUrl);
  return toJson(desc, fromBinary(desc, bytes), jsonWrite);
}

/** Packs a JSON-shaped resource into google.protobuf.Any. */
export function packAny(typeUrl: string, json: unknown): Any {
  return create(AnySchema, { typeUrl, value: encodeJson(typeUrl, json) });
}

/** Unpacks google.protobuf.Any into canonical JSON (with the type URL it carried). */
export function unpackAny(any: Any): { typeUrl: string; json: JsonValue } {
  return { typeUrl: any.typeUrl, json: decodeToJson(any.typeUrl, any.value) };
}
