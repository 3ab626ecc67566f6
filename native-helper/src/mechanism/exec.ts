// Run a program and capture its output. Every mechanism module shells out through here, so errors
// read the same everywhere: the command, its exit code and its stderr in one line. Long-running
// children (that outlive the call) start through supervisor.ts instead.
import { type ChildProcess, spawn } from 'node:child_process';

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
    /** Instead of the usual one (e.g. the program could not start at all). */
    message?: string,
  ) {
    super(
      message ??
        `${argv.join(' ')} failed (${code === null ? 'killed' : `exit ${code}`}): ${stderr.trim() || '(no output)'}`,
    );
    this.name = 'CommandError';
  }
}

export interface RunOptions {
  /** Written to the program's stdin, then closed. */
  input?: string;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new Error('run: empty argv'));
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 60_000,
      });
    } catch (err) {
      reject(new CommandError(argv, null, (err as Error).message));
      return;
    }
    // Out of descriptors (EMFILE), spawn returns a child without pipes and reports 'error' later.
    if (!child.stdout || !child.stderr || !child.stdin) {
      child.once('error', (err) => reject(new CommandError(argv, null, err.message)));
      return;
    }
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => reject(new CommandError(argv, null, err.message)));
    child.on('close', (code) => {
      if (code !== 0 && !opts.allowFailure) reject(new CommandError(argv, code, stderr));
      else resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the program may exit before reading its input
    child.stdin.end(opts.input ?? '');
  });
}

/** Run and return stdout; throws CommandError on failure. */
export async function output(
  argv: readonly string[],
  opts: Omit<RunOptions, 'allowFailure'> = {},
): Promise<string> {
  return (await run(argv, opts)).stdout;
}
