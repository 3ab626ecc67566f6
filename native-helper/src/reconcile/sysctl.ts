// Read and write /proc/sys values (slash paths, so interface names with dots work) in one process each.
import { run } from '../mechanism/exec.ts';
import { nsArgv, type NetnsOption } from '../mechanism/netlink/ns.ts';

const PATH = /^[A-Za-z0-9_./@:-]+$/;

function check(path: string): void {
  if (!PATH.test(path) || path.includes('..')) throw new Error(`sysctl path "${path}" is invalid.`);
}

/** Current values; a path that does not exist (e.g. the interface is gone) maps to null. */
export async function readSysctls(
  paths: readonly string[],
  opts: NetnsOption = {},
): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  if (paths.length === 0) return out;
  paths.forEach(check);
  const script =
    'for p; do v=$(cat "/proc/sys/$p" 2>/dev/null) && printf "%s\\n" "$v" || printf "\\001\\n"; done';
  const { stdout } = await run(nsArgv(opts, ['sh', '-c', script, 'sh', ...paths]));
  const lines = stdout.split('\n');
  paths.forEach((p, i) => {
    const v = lines[i] ?? '\u0001';
    out[p] = v === '\u0001' ? null : v.trim();
  });
  return out;
}

/** Writes values in order; with ignoreMissing, paths that do not exist are skipped. */
export async function writeSysctls(
  values: Record<string, string>,
  opts: NetnsOption & {
    ignoreMissing?: boolean;
    /** Read each value back after writing it; a value the kernel did not take is an error. */
    verify?: boolean;
  } = {},
): Promise<void> {
  const entries = Object.entries(values);
  if (entries.length === 0) return;
  for (const [p, v] of entries) {
    check(p);
    if (!/^[A-Za-z0-9 _.:-]*$/.test(v)) throw new Error(`sysctl value "${v}" for ${p} is invalid.`);
  }
  const skip = opts.ignoreMissing ? '[ -e "/proc/sys/$p" ] || continue; ' : '';
  const readBack = opts.verify
    ? ' r=$(cat "/proc/sys/$p"); [ "$(echo $r)" = "$(echo $v)" ] || { echo "$p reads $r after writing $v" >&2; exit 1; };'
    : '';
  const script = `while [ $# -gt 0 ]; do p=$1; v=$2; shift 2; ${skip}printf "%s" "$v" > "/proc/sys/$p" || { echo "could not write $p" >&2; exit 1; };${readBack} done`;
  await run(nsArgv(opts, ['sh', '-c', script, 'sh', ...entries.flat()]));
}
