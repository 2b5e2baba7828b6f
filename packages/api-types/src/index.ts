// @skein/api-types: the types every Skein package shares — Envoy xDS v3 (generated from the
// Envoy API protos at build time) and the Istio-compatible mesh API.
export { SKEIN_VERSION } from './version.js';
export { TypeUrl, TYPE_PREFIX, typeShortName, messageNameOf, type XdsTypeUrl } from './xds/type-urls.js';
export {
  xdsRegistry,
  messageDesc,
  messageFromJson,
  messageToJson,
  encodeJson,
  decodeToJson,
  packAny,
  unpackAny,
} from './xds/codec.js';
export { releaseDescriptors, realDesc } from './xds/lazy-desc.js';
export {
  grpcServiceDefinition,
  adsServiceDefinition,
  sdsServiceDefinition,
  caServiceDefinition,
} from './xds/services.js';
export * from './xds/messages.js';
export { compileRe2, re2, type Re2, type Re2Result } from './regex/re2.js';
export type * from './mesh/gen/types.js';
export {
  validateMeshObject,
  validateNode,
  formatProblems,
  type Problem,
  type ValidationResult,
} from './mesh/validate.js';
export { meshKinds, findKind, type KindInfo } from './mesh/kinds/index.js';
export { parseDuration, tryParseDuration, durationToProtoJson } from './mesh/schema/duration.js';
export { parseYamlDocuments, type YamlDocument } from './mesh/yaml.js';
export { emitTypes } from './mesh/codegen/emit-types.js';
export { emitCrds, crdOf, openApiOf } from './mesh/codegen/emit-crds.js';
export type { Node as SchemaNode, ObjectNode as SchemaObjectNode } from './mesh/schema/dsl.js';
export type { Syncz, SynczProxy, SynczTypeStatus, SynczNack } from './debug/syncz.js';
