// Command line of `npm run bench [-- --quick] [-- --only NAME[,NAME]]`.
export interface BenchArgs {
  quick: boolean;
  /**
   * Module names to run ('anchors' alone skips modules); empty = everything. The throughput anchors run
   * unless every named module measures its own (registry.ts, usesAnchors).
   */
  only: string[];
  help: boolean;
}

export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): BenchArgs {
  const args: BenchArgs = { quick: env.BENCH_QUICK === '1', only: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') args.quick = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const value = a === '--only' ? argv[++i] : a.slice('--only='.length);
      if (!value) throw new Error('--only needs a name, e.g. --only tunnel (or --only anchors).');
      args.only.push(
        ...value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
    } else if (a === '--') continue;
    else throw new Error(`unknown argument ${a}; use --quick, --only NAME or --help.`);
  }
  return args;
}

export const USAGE = `usage: npm run bench [-- --quick] [-- --only NAME[,NAME...]]
  --quick       one 3 s iperf3 run per number instead of the median of three 5 s runs (also BENCH_QUICK=1)
  --only NAME   run only the named modules (plus the throughput anchors if one of them uses them) and
                replace only their sections of RESULTS.md; --only anchors runs just the anchors
Needs root: it creates network namespaces (named syb<random>-*), removed on exit, failure or signal.
Runs inside test/lab/fresh-mounts.sh (a private mount namespace with a bpffs of its own).`;
