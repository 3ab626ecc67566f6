// Bundle Electron main and preload to CommonJS (sandboxed preloads cannot be ESM).
// Run: node --import tsx build/bundle-electron.ts
import { type Plugin, build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BundleResult {
  main: string;
  preload: string;
}

/**
 * Bundle `file` as the values it exports, evaluated here at bundle time: the preload gets the schema's
 * name lists (electron/api-names.ts) as plain arrays, without the schema or zod behind them.
 * Only JSON values can be inlined.
 */
export function inlineAtBundleTime(file: string): Plugin {
  return {
    name: 'inline-at-bundle-time',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path !== file) return undefined;
        const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
        const lines = Object.entries(exports).map(([name, value]) => {
          const json = JSON.stringify(value);
          if (json === undefined || typeof value === 'function')
            throw new Error(`${file}: export ${name} is not a JSON value, so it cannot be inlined`);
          return `export const ${name} = ${json};`;
        });
        return { contents: lines.join('\n'), loader: 'js' };
      });
    },
  };
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
    build({
      ...common,
      entryPoints: [join(repoRoot, 'electron', 'preload.ts')],
      outfile: preload,
      plugins: [inlineAtBundleTime(join(repoRoot, 'electron', 'api-names.ts'))],
    }),
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
