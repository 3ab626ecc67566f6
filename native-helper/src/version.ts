import pkg from '../../package.json' with { type: 'json' };

// A packaged build carries the package's own version (build/package/bundle-helper.ts defines it).
declare const __SWITCHYARD_VERSION__: string | undefined;

export const VERSION: string =
  typeof __SWITCHYARD_VERSION__ !== 'undefined' ? __SWITCHYARD_VERSION__ : pkg.version;
