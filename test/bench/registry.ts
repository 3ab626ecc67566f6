// Bench modules run after the anchors, in this order. A module exports `fn(ctx: BenchContext)`
// returning Promise<BenchRow[]>; ctx.anchors holds this run's anchor results for its ratios.
// A file that does not exist yet shows up as "not available" instead of failing the run.
export interface BenchModuleEntry {
  name: string;
  /** Path relative to this folder; checked before loading so a missing module is not an error. */
  file: string;
  load: () => Promise<Record<string, unknown>>;
  fn: string;
}

// Non-literal specifier on purpose: tsc would reject a literal import of a file that is not written yet.
function entry(name: string, file: string, fn: string): BenchModuleEntry {
  const url = new URL(file, import.meta.url).href;
  return { name, file, load: () => import(url) as Promise<Record<string, unknown>>, fn };
}

export const benchModules: BenchModuleEntry[] = [
  entry('apply', './apply.bench.ts', 'benchApply'),
  entry('adoption', './adoption.bench.ts', 'benchAdoption'),
  entry('client-load', './client-load.bench.ts', 'benchClientLoad'),
  entry('tunnel', './tunnel.bench.ts', 'benchTunnel'),
  entry('renderer', './renderer.bench.ts', 'benchRenderer'),
];
