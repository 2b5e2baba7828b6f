// The proxy's current configuration: every listener, cluster, route configuration and endpoint
// assignment it holds, static or from xDS, with the version and time it was accepted. The admin
// /config_dump reads it; the data path reads the live objects built from it.
import type { clusterV3, endpointV3, listenerV3, routeV3, tlsSecretV3 } from '@skein/api-types';

export interface ResourceEntry<T> {
  name: string;
  resource: T;
  /** xDS version_info it arrived with; '' for static resources. */
  version: string;
  lastUpdated: Date;
  isStatic: boolean;
}

export class ResourceTable<T> {
  readonly entries = new Map<string, ResourceEntry<T>>();
  /** version_info of the last accepted response of this type. */
  versionInfo = '';
  get(name: string): T | undefined {
    return this.entries.get(name)?.resource;
  }
  set(name: string, resource: T, version: string, isStatic: boolean, now: Date): void {
    this.entries.set(name, { name, resource, version, lastUpdated: now, isStatic });
  }
  delete(name: string): boolean {
    return this.entries.delete(name);
  }
  names(): string[] {
    return [...this.entries.keys()];
  }
}

export class ResourceStore {
  readonly listeners = new ResourceTable<listenerV3.ListenerJson>();
  readonly clusters = new ResourceTable<clusterV3.ClusterJson>();
  readonly routes = new ResourceTable<routeV3.RouteConfigurationJson>();
  readonly endpoints = new ResourceTable<endpointV3.ClusterLoadAssignmentJson>();
  readonly secrets = new ResourceTable<tlsSecretV3.SecretJson>();
}
