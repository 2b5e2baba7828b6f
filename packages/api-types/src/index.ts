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
export {
  grpcServiceDefinition,
  adsServiceDefinition,
  sdsServiceDefinition,
  caServiceDefinition,
} from './xds/services.js';
export * from './xds/messages.js';
export { compileRe2, re2, type Re2, type Re2Result } from './regex/re2.js';
