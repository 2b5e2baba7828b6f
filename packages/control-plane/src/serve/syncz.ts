// The JSON shape of `/debug/syncz` lives in @skein/api-types (skeinctl proxy-status reads it);
// re-exported here for skeind's own modules.
export type { Syncz, SynczNack, SynczProxy, SynczTypeStatus } from '@skein/api-types';
