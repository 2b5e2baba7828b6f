// Test infrastructure for the packages' tests (`@skein/ca/testing`): a real kube-apiserver on etcd.
export {
  apiServerBinaries,
  apiServerUnavailable,
  startApiServer,
  type ApiServer,
  type ApiServerBinaries,
  type ApiServerOptions,
} from './kube-apiserver.js';
