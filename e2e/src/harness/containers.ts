/**
 * Container-level fixtures (testcontainers) for tests that need Skein's images but no cluster.
 * The reaper ("Ryuk") image cannot be pulled offline, so it is disabled here and every test
 * stops what it started (see `stopAll`).
 */
process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';

import {
  GenericContainer,
  Network,
  Wait,
  type StartedNetwork,
  type StartedTestContainer,
} from 'testcontainers';

export interface Stoppable {
  stop(): Promise<unknown>;
}

/** Stops containers and networks in reverse start order, ignoring ones already gone. */
export async function stopAll(started: Stoppable[]): Promise<void> {
  for (const s of started.reverse()) await s.stop().catch(() => undefined);
}

export function startNetwork(): Promise<StartedNetwork> {
  return new Network().start();
}

/** Prometheus with the given prometheus.yml, its API on a mapped loopback port. */
export function startPrometheus(
  image: string,
  network: StartedNetwork,
  config: string,
): Promise<StartedTestContainer> {
  return new GenericContainer(image)
    .withNetwork(network)
    .withCopyContentToContainer([{ content: config, target: '/etc/prometheus/prometheus.yml', mode: 0o644 }])
    .withExposedPorts(9090)
    .withWaitStrategy(Wait.forHttp('/-/ready', 9090).forStatusCode(200))
    .start();
}

/** The echo app, reachable on the network under `alias`. */
export function startEcho(
  image: string,
  network: StartedNetwork,
  alias: string,
  version = 'v1',
): Promise<StartedTestContainer> {
  return new GenericContainer(image)
    .withNetwork(network)
    .withNetworkAliases(alias)
    .withEnvironment({ ECHO_VERSION: version })
    .withExposedPorts(8080, 7070)
    .withWaitStrategy(Wait.forHttp('/healthz', 8080).forStatusCode(200))
    .start();
}
