// Where a command runs: the current network namespace, or a named one (tests and benchmarks only).
export interface NetnsOption {
  /** A named namespace (`ip netns add`); commands run there instead of the current one. */
  netns?: string;
}

export type Family = 4 | 6;

/** argv for `ip` in the chosen namespace, optionally pinned to one address family. */
export function ipArgv(opts: NetnsOption, args: readonly string[], family?: Family): string[] {
  return ['ip', ...(opts.netns ? ['-n', opts.netns] : []), ...(family ? [`-${family}`] : []), ...args];
}

/** argv for any other program (nft, sysctl) in the chosen namespace. */
export function nsArgv(opts: NetnsOption, argv: readonly string[]): string[] {
  return opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...argv] : [...argv];
}
