// Bench modules run after the anchors, in this order. A module exports `fn(ctx: BenchContext)`
// returning Promise<BenchRow[]>; ctx.anchors holds this run's anchor results for its ratios.
// A file that does not exist yet shows up as "not available" instead of failing the run.
export interface BenchModuleEntry {
  name: string;
  /** Path relative to this folder; checked before loading so a missing module is not an error. */
  file: string;
  load: () => Promise<Record<string, unknown>>;
  fn: string;
  /**
   * Whether its ratios use the throughput anchors (ctx.anchors). `--only` runs them only when a selected
   * module does; a module that measures its own anchor in the module says false.
   */
  usesAnchors: boolean;
  /**
   * The RESULTS.md section its rows go under. A failure row goes there too, so the next good run
   * replaces it instead of leaving a stale FAILED section behind.
   */
  group: string;
}

// Non-literal specifier on purpose: tsc would reject a literal import of a file that is not written yet.
function entry(
  name: string,
  file: string,
  fn: string,
  opts: { usesAnchors: boolean; group: string },
): BenchModuleEntry {
  const url = new URL(file, import.meta.url).href;
  return { name, file, load: () => import(url) as Promise<Record<string, unknown>>, fn, ...opts };
}

export const benchModules: BenchModuleEntry[] = [
  entry('apply', './apply.bench.ts', 'benchApply', { usesAnchors: false, group: 'policy apply' }),
  entry('adoption', './adoption.bench.ts', 'benchAdoption', {
    usesAnchors: false,
    group: 'adoption (exec → cgroup)',
  }),
  entry('client-load', './client-load.bench.ts', 'benchClientLoad', {
    usesAnchors: false,
    group: 'helper under client load',
  }),
  // Before tunnel, so the tunnel's CPU per Gbit can be held to the floor measured just before it.
  entry('floors', './floors.ts', 'benchFloors', { usesAnchors: true, group: 'floors' }),
  entry('tunnel', './tunnel.bench.ts', 'benchTunnel', { usesAnchors: true, group: 'tunnel' }),
  entry('renderer', './renderer.bench.ts', 'benchRenderer', { usesAnchors: false, group: 'renderer' }),
  entry('rules', './rules.bench.ts', 'benchRules', {
    usesAnchors: false,
    group: 'encryption rules: connect()',
  }),
  entry('startup', './startup.bench.ts', 'benchStartup', { usesAnchors: false, group: 'startup' }),
  entry('gateway-scale', './gateway-scale.bench.ts', 'benchGatewayScale', {
    usesAnchors: false,
    group: 'gateway at scale',
  }),
  entry('idle', './idle.bench.ts', 'benchIdle', { usesAnchors: false, group: 'helper idle' }),
];
