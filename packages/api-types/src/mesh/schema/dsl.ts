// The schema language the mesh API is written in, once: every kind's spec is a tree of these
// nodes, from which TypeScript types and CRD OpenAPI schemas are generated and against which
// objects are validated at run time.

/** Reports a problem at a field path. */
export type Report = (path: string, reason: string, severity?: 'error' | 'warning') => void;

/** A rule that needs more than the field's own type (cross-field, semantic). */
export type Check = (value: unknown, path: string, report: Report) => void;

export type StringFormat = 'duration' | 're2' | 'cidr-or-ip' | 'ip';

interface Base {
  /** One-line description, carried into the CRD and the generated types. */
  readonly doc?: string;
  readonly checks?: readonly Check[];
}

export interface StringNode extends Base {
  readonly t: 'string';
  readonly enum?: readonly string[];
  readonly format?: StringFormat;
}
export interface IntNode extends Base {
  readonly t: 'int';
  readonly min?: number;
  readonly max?: number;
}
export interface NumberNode extends Base {
  readonly t: 'number';
  readonly min?: number;
  readonly max?: number;
}
export interface BoolNode extends Base {
  readonly t: 'bool';
}
export interface ArrayNode extends Base {
  readonly t: 'array';
  readonly items: Node;
}
export interface MapNode extends Base {
  readonly t: 'map';
  readonly values: Node;
}
/** Free-form JSON, only where Istio's own API is free-form (e.g. google.protobuf.Struct). */
export interface FreeNode extends Base {
  readonly t: 'free';
}
export interface ObjectNode extends Base {
  readonly t: 'object';
  /** The Istio message name; becomes the TypeScript interface name. */
  readonly name: string;
  readonly fields: Readonly<Record<string, Node>>;
  readonly required?: readonly string[];
  /** Groups of fields of which at most one may be set (proto oneof). */
  readonly oneOf?: readonly (readonly string[])[];
}

export type Node = StringNode | IntNode | NumberNode | BoolNode | ArrayNode | MapNode | FreeNode | ObjectNode;

type Opts<N> = Omit<N, 't'>;

export const str = (o: Opts<StringNode> = {}): StringNode => ({ t: 'string', ...o });
export const enumOf = (values: readonly string[], o: Opts<StringNode> = {}): StringNode => ({
  t: 'string',
  enum: values,
  ...o,
});
/** A duration string such as "1.5s", "100ms" or "3m". */
export const duration = (doc?: string): StringNode => ({
  t: 'string',
  format: 'duration',
  ...(doc ? { doc } : {}),
});
/** An RE2 regular expression. */
export const regex = (doc?: string): StringNode => ({ t: 'string', format: 're2', ...(doc ? { doc } : {}) });
export const int = (o: Opts<IntNode> = {}): IntNode => ({ t: 'int', ...o });
export const uint32 = (o: Opts<IntNode> = {}): IntNode => ({ t: 'int', min: 0, max: 4294967295, ...o });
export const int32 = (o: Opts<IntNode> = {}): IntNode => ({
  t: 'int',
  min: -2147483648,
  max: 2147483647,
  ...o,
});
export const port = (doc?: string): IntNode => ({ t: 'int', min: 0, max: 65535, ...(doc ? { doc } : {}) });
export const num = (o: Opts<NumberNode> = {}): NumberNode => ({ t: 'number', ...o });
export const bool = (doc?: string): BoolNode => ({ t: 'bool', ...(doc ? { doc } : {}) });
export const arr = (items: Node, o: Opts<Omit<ArrayNode, 'items'>> = {}): ArrayNode => ({
  t: 'array',
  items,
  ...o,
});
export const map = (values: Node, o: Opts<Omit<MapNode, 'values'>> = {}): MapNode => ({
  t: 'map',
  values,
  ...o,
});
export const free = (doc?: string): FreeNode => ({ t: 'free', ...(doc ? { doc } : {}) });
export const obj = (
  name: string,
  fields: Record<string, Node>,
  o: Omit<Opts<ObjectNode>, 'name' | 'fields'> = {},
): ObjectNode => ({ t: 'object', name, fields, ...o });
/** A list of strings. */
export const strings = (doc?: string): ArrayNode => arr(str(), doc ? { doc } : {});
/** A string-to-string map (labels, headers). */
export const stringMap = (doc?: string): MapNode => map(str(), doc ? { doc } : {});
