// Every long-running child (the data path, launched apps, `ip monitor`, browser windows, lab servers)
// starts here: one place that knows its PID, stops only that PID, reports how it ended and keeps the
// end of its stderr for the error message. Commands that run to completion go through exec.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { CommandError } from './exec.ts';

const STDERR_TAIL_CHARS = 8192; // "8 KiB" of mostly ASCII text
/** After the exit, how long its pipes may take to drain before the exit is reported anyway. */
const DRAIN_MS = 250;
const DEFAULT_GRACE_MS = 5000;

export interface StartOptions {
  /** Names the child in messages and in running(); default argv[0]. */
  name?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Its own process group: a Ctrl-C in our terminal does not reach it. */
  detached?: boolean;
  /** Default 'ignore'. */
  stdin?: 'pipe' | 'ignore' | 'inherit';
  /** Default 'ignore'; a number is an open fd the child writes to. */
  stdout?: 'pipe' | 'inherit' | 'ignore' | number;
  /** Default 'pipe': its lines become 'log' events and its tail goes into exit reports. */
  stderr?: 'pipe' | 'inherit' | 'ignore' | number;
  /** Open fds the child inherits as 3, 4, …; the caller closes its copies after start(). */
  fds?: readonly number[];
}

export interface ExitStatus {
  /** null when a signal ended it or it never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last 8 KiB of its stderr, or why it could not start. */
  stderrTail: string;
}

export interface RunningChild {
  name: string;
  pid: number;
  started: Date;
}

/** One child started by a Supervisor. 'log' gives each non-empty stderr line, trimmed. */
export class Supervised extends EventEmitter<{ log: [string] }> {
  readonly name: string;
  /** undefined when the program could not start (spawned says why). */
  readonly pid: number | undefined;
  readonly started = new Date();
  /** Resolves with the PID once the program runs; rejects with a CommandError when it cannot start. */
  readonly spawned: Promise<number>;
  /** Resolves once it has exited (or failed to start); never rejects. */
  readonly exited: Promise<ExitStatus>;
  private tail = '';

  constructor(
    /** The Node handle, for callers that need more than this class offers (the lab hands it to tests). */
    readonly child: ChildProcess,
    readonly argv: readonly string[],
    name: string,
    private readonly forget: (c: Supervised) => void,
  ) {
    super();
    this.name = name;
    this.pid = child.pid;
    this.readStderr();
    child.stdin?.on('error', () => {}); // it may exit before reading its input
    this.spawned = new Promise((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', (err) => reject(startError(name, argv, err)));
    });
    this.spawned.catch(() => {}); // reported through spawned to whoever awaits it, and through exited
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        if (child.pid === undefined) resolve({ code: null, signal: null, stderrTail: err.message });
      });
      child.once('exit', (code, signal) => {
        forget(this);
        const report = () => resolve({ code, signal, stderrTail: this.tail });
        // 'close' comes once its pipes are drained too, unless a grandchild still holds one.
        const timer = setTimeout(report, DRAIN_MS);
        child.once('close', () => {
          clearTimeout(timer);
          report();
        });
      });
    });
  }

  get stdin(): Writable | null {
    return this.child.stdin;
  }
  get stdout(): Readable | null {
    return this.child.stdout;
  }
  get stderr(): Readable | null {
    return this.child.stderr;
  }

  /** True while the process runs (started and not yet exited). */
  get running(): boolean {
    return this.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends sig to this PID only, if it still runs; true when sent. */
  signal(sig: NodeJS.Signals): boolean {
    return this.running && this.child.kill(sig);
  }

  /**
   * Sends signal to this PID, then SIGKILL if it still runs after graceMs (Infinity: never).
   * Resolves once it has exited.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = DEFAULT_GRACE_MS): Promise<ExitStatus> {
    if (!this.signal(signal) || !Number.isFinite(graceMs)) return this.exited;
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Lets it live on its own (a launched app, a lab server that outlives the CLI): stopAll() leaves
   * it alone and it no longer keeps our event loop alive. This handle still works.
   */
  release(): void {
    this.forget(this);
    this.child.unref();
  }

  private readStderr(): void {
    const stderr = this.child.stderr;
    if (!stderr) return;
    // Decoded here, not with setEncoding: a caller that reads the stream itself still gets Buffers.
    const decoder = new StringDecoder('utf8');
    let partial = '';
    const lines = (text: string, final: boolean) => {
      this.tail = (this.tail + text).slice(-STDERR_TAIL_CHARS);
      const parts = (partial + text).split('\n');
      partial = final ? '' : parts.pop()!;
      for (const line of parts) if (line.trim()) this.emit('log', line.trim());
    };
    stderr.on('data', (d: Buffer) => lines(decoder.write(d), false));
    stderr.once('end', () => lines(decoder.end(), true));
  }
}

function startError(name: string, argv: readonly string[], err: Error): CommandError {
  const e = new CommandError(argv, null, err.message, `cannot start ${name}: ${err.message}`);
  e.cause = err;
  return e;
}

/** Starts children and keeps the live ones until they exit or are released. */
export class Supervisor {
  private readonly live = new Set<Supervised>();

  /**
   * Starts argv. Throws a CommandError when Node refuses at once (e.g. a uid we may not take);
   * a program that is missing or not executable is reported through the handle's spawned.
   */
  start(argv: readonly string[], opts: StartOptions = {}): Supervised {
    const [file, ...args] = argv;
    if (!file) throw new Error('supervisor: empty argv');
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        stdio: [opts.stdin ?? 'ignore', opts.stdout ?? 'ignore', opts.stderr ?? 'pipe', ...(opts.fds ?? [])],
        env: opts.env ?? process.env,
        ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
        ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
        ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
        detached: opts.detached ?? false,
      });
    } catch (err) {
      throw startError(opts.name ?? file, argv, err as Error);
    }
    const handle = new Supervised(child, argv, opts.name ?? file, (c) => this.live.delete(c));
    if (handle.pid !== undefined) this.live.add(handle);
    return handle;
  }

  /** The children started here that still run and were not released. */
  running(): RunningChild[] {
    return [...this.live]
      .filter((c) => c.running)
      .map((c) => ({ name: c.name, pid: c.pid!, started: c.started }));
  }

  /** Stops every live child (see Supervised.stop) and resolves once all have exited. */
  async stopAll(signal: NodeJS.Signals = 'SIGTERM', graceMs = DEFAULT_GRACE_MS): Promise<void> {
    await Promise.all([...this.live].map((c) => c.stop(signal, graceMs)));
  }
}

/** The process's one supervisor: every long-running child of the helper, the CLI and the lab. */
export const supervisor = new Supervisor();
