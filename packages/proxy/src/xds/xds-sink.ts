// The seam between the xDS transport (state-of-the-world or delta ADS) and the proxy: the proxy
// applies a batch of resources of one type and says which names it wants of each type.

export interface XdsResource {
  name: string;
  json: unknown;
  /** Top-level field numbers its type does not define in this proxy's API (clusters only). */
  unknownFields?: number[];
}

export interface XdsSink {
  /**
   * Applies an update. `resources` is every resource of the type for LDS/CDS state of the world
   * (`full` true), or the changed ones with `removed` names (delta, EDS/RDS). Returns an error
   * message to NACK with, or undefined when accepted.
   */
  apply(
    typeUrl: string,
    resources: XdsResource[],
    version: string,
    full: boolean,
    removed: string[],
  ): Promise<string | undefined>;
  /** Resource names the proxy wants of a type ('*' for wildcard LDS/CDS). */
  wanted(typeUrl: string): string[] | '*';
  /** Types in the order the proxy subscribes: clusters, endpoints, listeners, routes. */
  readonly order: readonly string[];
  /** Whether the proxy is ready for the next type (CDS warmed before LDS, as Envoy does). */
  canSubscribe(typeUrl: string): boolean;
}
