/**
 * The images `npm run images` builds and loads into the cluster, by role. The tag comes from
 * SKEIN_IMAGE_TAG (default dev); images with their own version (Prometheus, Jaeger) are read
 * from the list images/build.sh writes to $SKEIN_CACHE/images-<tag>.txt.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SKEIN_CACHE } from './cluster.js';

export const IMAGE_TAG = process.env['SKEIN_IMAGE_TAG'] ?? 'dev';

function built(): string[] {
  const list = `${SKEIN_CACHE}/images-${IMAGE_TAG}.txt`;
  return existsSync(list) ? readFileSync(list, 'utf8').split('\n').filter(Boolean) : [];
}

function find(repo: string): string {
  const image = built().find((i) => i.startsWith(`${repo}:`));
  if (image === undefined)
    throw new Error(`no ${repo} image in ${SKEIN_CACHE}/images-${IMAGE_TAG}.txt: run \`npm run images\``);
  return image;
}

export const images = {
  echo: `skein/echo:${IMAGE_TAG}`,
  skeind: `skein/skeind:${IMAGE_TAG}`,
  proxy: `skein/proxy:${IMAGE_TAG}`,
  prometheus: (): string => find('skein/prometheus'),
  jaeger: (): string => find('skein/jaeger'),
};
