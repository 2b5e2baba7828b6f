// Waiting for a proxy's next xDS outcome (applied or rejected update) that matches a predicate.
import type { RunningProxy, XdsEvent } from '../../src/index.js';

/** Resolves with the first 'xds' event after this call for which `pred` holds. */
export function nextXds(proxy: RunningProxy, pred: (e: XdsEvent) => boolean): Promise<XdsEvent> {
  return new Promise((resolve) => {
    const on = (e: XdsEvent): void => {
      if (!pred(e)) return;
      proxy.off('xds', on);
      resolve(e);
    };
    proxy.on('xds', on);
  });
}
