// Which HTTP/1.1 implementation serves plain-text traffic: this package's raw-socket codec (the
// default) or Node's http server with undici upstream (`SKEIN_PROXY_HTTP1=legacy`, kept for
// comparison in the benchmark and as a fallback).
export const LEGACY_HTTP1 = process.env['SKEIN_PROXY_HTTP1'] === 'legacy';
