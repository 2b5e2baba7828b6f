// skeinctl proxy-config: a proxy's configuration as tables, from its admin endpoint.
import type { Command } from 'commander';
import { readConfigDump } from '../proxy-config/dump.js';
import {
  clustersTable,
  endpointsTable,
  listenersTable,
  routesTable,
  secretsTable,
} from '../proxy-config/render.js';
import { parseOutputFormat, renderData } from '../output/format.js';
import { baseUrl, getJson } from './http.js';

const kinds = ['listeners', 'routes', 'clusters', 'endpoints', 'secrets', 'bootstrap', 'all'] as const;
type Kind = (typeof kinds)[number];

async function show(
  kind: Kind,
  admin: string,
  format: ReturnType<typeof parseOutputFormat>,
): Promise<string> {
  if (kind === 'endpoints') {
    const clusters = await getJson(`${admin}/clusters?format=json`);
    return format === 'table' ? endpointsTable(clusters) : renderData(clusters, format);
  }
  const raw = await getJson(`${admin}/config_dump`);
  const dump = readConfigDump(raw);
  if (format !== 'table') {
    const pick = {
      listeners: dump.listeners,
      routes: dump.routes,
      clusters: dump.clusters,
      secrets: dump.secrets,
      bootstrap: dump.bootstrap,
      all: raw,
    };
    return renderData(pick[kind], format);
  }
  switch (kind) {
    case 'listeners':
      return listenersTable(dump);
    case 'routes':
      return routesTable(dump);
    case 'clusters':
      return clustersTable(dump);
    case 'secrets':
      return secretsTable(dump);
    case 'bootstrap':
      return renderData(dump.bootstrap ?? {}, 'yaml');
    case 'all':
      return [clustersTable(dump), listenersTable(dump), routesTable(dump), secretsTable(dump)].join('\n');
  }
}

export function registerProxyConfig(program: Command): void {
  const pc = program
    .command('proxy-config')
    .alias('pc')
    .description("Show a proxy's configuration (like istioctl proxy-config) from its admin endpoint");
  for (const kind of kinds) {
    pc.command(kind)
      .description(kind === 'all' ? 'clusters, listeners, routes and secrets' : `the proxy's ${kind}`)
      .requiredOption('--admin <url>', "the proxy's admin address, e.g. http://127.0.0.1:15000")
      .option('-o, --output <format>', 'table, json or yaml (json/yaml print the raw dump)', 'table')
      .action(async (opts: { admin: string; output: string }) => {
        process.stdout.write(await show(kind, baseUrl(opts.admin), parseOutputFormat(opts.output)));
      });
  }
}
