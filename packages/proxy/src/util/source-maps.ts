// Error stacks that name our TypeScript sources: the binary turns Node's source-map support on
// itself (`bin/skein-proxy` does not pass `--enable-source-maps`) once TurboFan
// is held (util/startup-tiering.ts) — with the flag, Node scans the entry's own modules for
// their maps before any of our code runs, and V8 optimises that scan, touching compiler code an
// idle proxy otherwise never does. Dependencies in node_modules keep Node's default (no maps).
/** Turns source-map support on for the modules loaded from now on (a no-op where it already is). */
export function enableSourceMaps(): void {
  if (process.sourceMapsEnabled) return;
  process.setSourceMapsEnabled(true);
}
