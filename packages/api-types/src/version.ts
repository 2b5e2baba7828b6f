// The one release version every Skein package and image shares. The build replaces this file's
// output (dist/version.js) with the root package.json version and the git commit.

/** Release version, e.g. "0.1.0+abc1234". "dev" when running from source. */
export const SKEIN_VERSION: string = '0.0.0-dev';
