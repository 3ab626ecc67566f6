// Run a program and capture its output. Every mechanism module shells out through here, so errors
// read the same everywhere: the command, its exit code and its stderr in one line.
import { type ChildProcess, spawn } from 'node:child_process';

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(
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

/** A long-running child: its PID, how it ended, and a stop that signals only that PID. */
export interface StartedProcess {
  readonly pid: number;
  /** Resolves when it exits, with its exit code (null when a signal ended it) and the end of its stderr. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderrTail: string }>;
  /** Sends the signal if it still runs; resolves once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Start a program that outlives this call (a browser window, the Electron shell). stdout goes to ours,
 * stderr is kept (last 8 KiB) for the error message. detached puts it in its own process group, so a
 * Ctrl-C in the terminal reaches only us and we stop it in order.
 */
export function startProcess(argv: readonly string[], opts: { detached?: boolean } = {}): StartedProcess {
  const [file, ...args] = argv;
  if (!file) throw new Error('startProcess: empty argv');
  const child = spawn(file, args, { stdio: ['ignore', 'inherit', 'pipe'], detached: opts.detached ?? false });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderrTail = (stderrTail + d).slice(-8192)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderrTail: string }>(
    (resolve) => {
      child.once('error', (err) => resolve({ code: null, signal: null, stderrTail: err.message }));
      child.once('close', (code, signal) => resolve({ code, signal, stderrTail }));
    },
  );
  return {
    pid: child.pid ?? -1,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
