// gRPC service definitions (for @grpc/grpc-js) of the services Skein serves or calls: ADS
// (state-of-the-world and delta), SDS and Istio's certificate service. Built from the
// generated service descriptors, so method paths and message types cannot drift. Each is built
// on first use (importing this module decodes no descriptor).
import {
  fromBinary,
  toBinary,
  type DescMessage,
  type DescService,
  type MessageShape,
} from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { AggregatedDiscoveryService } from '../gen/envoy/service/discovery/v3/ads_pb.js';
import { SecretDiscoveryService } from '../gen/envoy/service/secret/v3/sds_pb.js';
import { IstioCertificateService } from '../gen/istio/v1/auth/ca_pb.js';
import { lazyDesc } from './lazy-desc.js';

function method<I extends DescMessage, O extends DescMessage>(
  service: DescService,
  name: string,
  input: I,
  output: O,
  requestStream: boolean,
  responseStream: boolean,
): MethodDefinition<MessageShape<I>, MessageShape<O>> {
  return {
    path: `/${service.typeName}/${name}`,
    requestStream,
    responseStream,
    originalName: name,
    requestSerialize: (m) => Buffer.from(toBinary(input, m)),
    requestDeserialize: (b) => fromBinary(input, b),
    responseSerialize: (m) => Buffer.from(toBinary(output, m)),
    responseDeserialize: (b) => fromBinary(output, b),
  };
}

/** A grpc-js service definition for every method of a generated service descriptor. */
export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const m of service.methods) {
    const streamsIn = m.methodKind === 'client_streaming' || m.methodKind === 'bidi_streaming';
    const streamsOut = m.methodKind === 'server_streaming' || m.methodKind === 'bidi_streaming';
    def[m.localName] = method(service, m.name, m.input, m.output, streamsIn, streamsOut) as MethodDefinition<
      unknown,
      unknown
    >;
  }
  return def;
}

/** envoy.service.discovery.v3.AggregatedDiscoveryService: streamAggregatedResources, deltaAggregatedResources. */
export const adsServiceDefinition: ServiceDefinition = lazyDesc(() =>
  grpcServiceDefinition(AggregatedDiscoveryService),
);
/** envoy.service.secret.v3.SecretDiscoveryService: streamSecrets, deltaSecrets, fetchSecrets. */
export const sdsServiceDefinition: ServiceDefinition = lazyDesc(() =>
  grpcServiceDefinition(SecretDiscoveryService),
);
/** istio.v1.auth.IstioCertificateService: createCertificate. */
export const caServiceDefinition: ServiceDefinition = lazyDesc(() =>
  grpcServiceDefinition(IstioCertificateService),
);
