// How /usr/bin/switchyard starts the bundle on the package's Node runtime. The helper is a daemon that
// is idle nearly all the time: it runs with a small young generation (V8 keeps up to 3 × 16 MB of
// semi-spaces committed after a burst of work by default), two V8 worker threads and two malloc
// arenas (glibc gives every thread that allocates its own, and their free pages stay in the RSS);
// the short-lived CLI runs with Node's defaults.
// The idle bench (test/bench/idle.bench.ts) runs its packaged helper through this same script.

const COMMON = ['--disable-warning=ExperimentalWarning'];
export const HELPER_NODE_FLAGS = [...COMMON, '--max-semi-space-size=1', '--v8-pool-size=2'];
export const HELPER_ENV = 'MALLOC_ARENA_MAX=2';

/** The launcher for a package whose runtime and bundle sit in `lib` (/usr/lib/switchyard). */
export function launcherScript(lib: string): string {
  const node = `${lib}/node`;
  const bundle = `${lib}/switchyard.mjs`;
  return [
    '#!/bin/sh',
    `if [ "$1" = helper ]; then ${HELPER_ENV} exec ${node} ${HELPER_NODE_FLAGS.join(' ')} ${bundle} "$@"; fi`,
    `exec ${node} ${COMMON.join(' ')} ${bundle} "$@"`,
    '',
  ].join('\n');
}
