// Bundles the helper and the CLI (native-helper/src/cli/main.ts and everything it imports, zod, ws and
// re2js included) into one ES module that runs on the Node binary the package carries, without tsx
// and without a node_modules folder. The built parts it loads (addon, eBPF objects, data path, UI)
// sit beside it; native-helper/src/resources.ts says where, once __SWITCHYARD_PACKAGED__ is defined.
import { build } from 'esbuild';
import { join } from 'node:path';
import { repoRoot } from '../bundle-electron.ts';

/** The Node major the package's runtime has (build/package/runtime.ts). */
export const RUNTIME_TARGET = 'node20';

/**
 * Writes outDir/switchyard.mjs and its chunks (outDir/chunks/): code split at the CLI's dynamic
 * imports, so `switchyard --help` or `status` never parses the daemon's half. Returns the entry file.
 */
export async function bundleHelper(outDir: string, version: string): Promise<string> {
  await build({
    entryPoints: { switchyard: join(repoRoot, 'native-helper/src/cli/main.ts') },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: RUNTIME_TARGET,
    define: { __SWITCHYARD_PACKAGED__: 'true', __SWITCHYARD_VERSION__: JSON.stringify(version) },
    // Bundled CommonJS (ws) calls require() for Node's own modules: give the ES module one.
    banner: {
      js: "import { createRequire as __syCreateRequire } from 'node:module'; const require = __syCreateRequire(import.meta.url);",
    },
    // ws tries these optional speed-ups in a try/catch; the package has none.
    external: ['bufferutil', 'utf-8-validate'],
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  return join(outDir, 'switchyard.mjs');
}
