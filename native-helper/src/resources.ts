// Where the helper's built parts are: the N-API addon, the eBPF objects, the tunnel data path and the
// UI. In a checkout they sit where `npm run build` puts them; in the installed package (one bundled
// file, /usr/lib/switchyard/switchyard.mjs) they sit beside the bundle. The bundler defines
// __SWITCHYARD_PACKAGED__; under tsx it does not exist.
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const __SWITCHYARD_PACKAGED__: boolean | undefined;

const packaged = typeof __SWITCHYARD_PACKAGED__ !== 'undefined' && __SWITCHYARD_PACKAGED__;

/**
 * native-helper/ in a checkout; /usr/lib/switchyard in the package, where this code may sit in the
 * bundle's entry file or in one of its chunks (/usr/lib/switchyard/chunks/).
 */
export function resourceRoot(moduleDir: string, isPackaged: boolean): string {
  if (!isPackaged) return resolve(moduleDir, '..');
  return basename(moduleDir) === 'chunks' ? dirname(moduleDir) : moduleDir;
}

const root = resourceRoot(dirname(fileURLToPath(import.meta.url)), packaged);

export const RESOURCES = packaged
  ? {
      addon: join(root, 'switchyard_native.node'),
      tagger: join(root, 'bpf/sock_tag.bpf.o'),
      classifier: join(root, 'bpf/flow_rules.bpf.o'),
      datapath: join(root, 'switchyard-datapath'),
      flowmark: join(root, 'bpf/flowmark.bpf.o'),
      renderer: '/usr/share/switchyard/ui',
    }
  : {
      addon: join(root, 'native/build/Release/switchyard_native.node'),
      tagger: join(root, 'bpf/sock_tag.bpf.o'),
      classifier: join(root, 'bpf/flow_rules.bpf.o'),
      datapath: join(root, 'native/datapath/build/switchyard-datapath'),
      flowmark: join(root, 'native/datapath/build/flowmark.bpf.o'),
      renderer: resolve(root, '../renderer/dist'),
    };

/** How to build what is missing: from a checkout, or (packaged) reinstall. */
export const BUILD_HINT = packaged
  ? 'reinstall the switchyard package'
  : 'run `npm run build:native` (make -C native-helper)';
