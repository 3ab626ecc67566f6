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
 * A delete the kernel refused because the thing is not there: the goal of the line is met. A device
 * going down takes its IPv4 routes with it without telling anyone, so a `route del` for one answers
 * ESRCH ("No such process", or "FIB table does not exist" for a table never made); a `rule del`
 * answers ENOENT.
 */
export function alreadyGone(command: string, stderr: string): boolean {
  const error = firstError(stderr);
  if (command.startsWith('route del ')) return /No such process|FIB table does not exist/.test(error);
  if (command.startsWith('rule del ')) return /No such file or directory/.test(error);
  return false;
}

/**
 * Runs the lines (e.g. "rule add …", "route replace …") in order and stops at the first failure,
 * which is reported as a BatchError naming the line. Lines before it stay applied. A delete of what is
 * already gone (alreadyGone) is no failure: the lines after it run, and it is returned.
 */
export async function applyBatch(
  family: Family,
  lines: readonly string[],
  opts: NetnsOption = {},
): Promise<string[]> {
  for (const l of lines)
    if (l.includes('\n')) throw new Error(`batch line contains a newline: ${JSON.stringify(l)}`);
  const gone: string[] = [];
  // `done`: how many lines ran before this run of ip (its line numbers count from there).
  for (let done = 0; done < lines.length;) {
    const res = await run(ipArgv(opts, ['-batch', '-'], family), {
      input: lines.slice(done).join('\n') + '\n',
      allowFailure: true,
    });
    if (res.code === 0) break;
    const at = failedLine(res.stderr);
    const line = at !== null ? done + at : null;
    const command = line !== null ? (lines[line - 1] ?? null) : null;
    if (line === null || command === null || !alreadyGone(command, res.stderr))
      throw new BatchError(family, line, command, res.stderr);
    gone.push(command);
    done = line;
  }
  return gone;
}
