// Public API of @skein/cli: the analysis and rendering cores, usable without the command line.
export { analyzeSources, type SourceText } from './analyze/analyze.js';
export { codes, type Finding, type Severity, type Code } from './analyze/finding.js';
export { readConfigDump, camelize, type ConfigDump } from './proxy-config/dump.js';
export {
  listenersTable,
  routesTable,
  clustersTable,
  endpointsTable,
  secretsTable,
} from './proxy-config/render.js';
export { renderTable } from './output/table.js';
export { proxyStatusTable } from './commands/proxy-status.js';
