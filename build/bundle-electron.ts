// Bundle Electron main and preload to CommonJS (sandboxed preloads cannot be ESM).
// Run: node --import tsx build/bundle-electron.ts
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BundleResult {
  main: string;
  preload: string;
}

export async function bundleElectron(outDir = join(repoRoot, 'electron', 'dist')): Promise<BundleResult> {
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'cjs' as const,
    // Electron 39 ships Node 22.
    target: 'node22',
    external: ['electron'],
    logLevel: 'warning' as const,
    legalComments: 'none' as const,
  };
  const main = join(outDir, 'main.cjs');
  const preload = join(outDir, 'preload.cjs');
  await Promise.all([
    build({
      ...common,
      entryPoints: [join(repoRoot, 'electron', 'main.ts')],
      outfile: main,
      sourcemap: 'linked',
    }),
    // The preload stays small and readable: it carries only the name lists and the bridge object.
    build({ ...common, entryPoints: [join(repoRoot, 'electron', 'preload.ts')], outfile: preload }),
  ]);
  return { main, preload };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  bundleElectron().then(
    (r) => console.log(`bundled ${r.main} and ${r.preload}`),
    (err: Error) => {
      console.error(`bundling Electron failed: ${err.message}`);
      process.exit(1);
    },
  );
}
