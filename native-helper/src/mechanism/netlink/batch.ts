// Apply many rule/route commands with one `ip -batch -` per family: one process, one netlink socket.
import { run } from '../exec.ts';
import { ipArgv, type Family, type NetnsOption } from './ns.ts';

export class BatchError extends Error {
  constructor(
    readonly family: Family,
    /** 1-based line of the batch that failed, or null when ip did not say. */
    readonly line: number | null,
    readonly command: string | null,
    readonly stderr: string,
  ) {
    super(
      line !== null
        ? `ip -${family} batch failed at line ${line} ("${command}"): ${firstError(stderr)}`
        : `ip -${family} batch failed: ${stderr.trim() || '(no output)'}`,
    );
    this.name = 'BatchError';
  }
}

function firstError(stderr: string): string {
  return stderr.split('\n').find((l) => l.trim() && !l.startsWith('Command failed')) ?? stderr.trim();
}

/** Which batch line failed, from ip's "Command failed -:N" trailer. */
export function failedLine(stderr: string): number | null {
  const m = /Command failed -:(\d+)/.exec(stderr);
  return m ? Number(m[1]) : null;
}

/**
 * Runs the lines (e.g. "rule add …", "route replace …") in order and stops at the first failure,
 * which is reported as a BatchError naming the line. Lines before it stay applied.
 */
export async function applyBatch(
  family: Family,
  lines: readonly string[],
  opts: NetnsOption = {},
): Promise<void> {
  if (lines.length === 0) return;
  for (const l of lines)
    if (l.includes('\n')) throw new Error(`batch line contains a newline: ${JSON.stringify(l)}`);
  const res = await run(ipArgv(opts, ['-batch', '-'], family), {
    input: lines.join('\n') + '\n',
    allowFailure: true,
  });
  if (res.code !== 0) {
    const line = failedLine(res.stderr);
    throw new BatchError(family, line, line !== null ? (lines[line - 1] ?? null) : null, res.stderr);
  }
}
