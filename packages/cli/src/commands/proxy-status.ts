// skeinctl proxy-status: every proxy connected to skeind, with its sync state per xDS type.
import type { Command } from 'commander';
import type { Syncz } from '@skein/api-types';
import { parseOutputFormat, renderData } from '../output/format.js';
import { renderTable } from '../output/table.js';
import { baseUrl, getJson } from './http.js';

const columns = ['CDS', 'LDS', 'EDS', 'RDS', 'NDS'] as const;

/** The istioctl-style table: SYNCED / STALE / NACKED / NOT SENT per type. */
export function proxyStatusTable(s: Syncz): string {
  const rows = s.proxies.map((p) => {
    const status = (type: string) => {
      const t = p.types.find((x) => x.type === type);
      if (!t || t.status === 'NOT_SENT') return 'NOT SENT';
      return t.status === 'NACKED' && t.nack ? `NACKED (${t.nack.message.slice(0, 40)})` : t.status;
    };
    return [p.proxyId, p.clusterId || '-', ...columns.map(status), p.istioVersion || '-'];
  });
  return renderTable(['NAME', 'CLUSTER', ...columns, 'VERSION'], rows);
}

export function registerProxyStatus(program: Command): void {
  program
    .command('proxy-status')
    .alias('ps')
    .description(
      'List the proxies connected to skeind and whether each xDS type is SYNCED, STALE, NACKED or NOT SENT',
    )
    .requiredOption('--control-plane <url>', "skeind's debug address, e.g. http://127.0.0.1:15014")
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(async (opts: { controlPlane: string; output: string }) => {
      const format = parseOutputFormat(opts.output);
      const syncz = (await getJson(`${baseUrl(opts.controlPlane)}/debug/syncz`)) as Syncz;
      process.stdout.write(format === 'table' ? proxyStatusTable(syncz) : renderData(syncz, format));
    });
}
