// Who wrote a file: every close-after-write on the watched directories' filesystems (fanotify), kept as
// a bounded map path → the writer's pid, cgroup and executable, so a file flagged later can be traced to
// the app that wrote it.
import { EventEmitter } from 'node:events';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { parseProcCgroup } from './cgroup/mountinfo.ts';
import { native } from './native.ts';
import type { FileWriteEvent, FileWritesHandle } from './native.ts';

export interface FileWriter {
  pid: number;
  /** The writer's cgroup v2 path ("/switchyard.x/app-3"); null when it was gone before it was read. */
  cgroup: string | null;
  /** The writer's executable; null when it was gone before it was read. */
  exe: string | null;
  /** When the write was seen (ms since the epoch). */
  time: number;
}

export interface WriteWatchOptions {
  /** The helper's own state directory: writes under it are not recorded. */
  stateDir?: string;
  /** Paths remembered; the oldest write is dropped past it (default 10,000). */
  maxEntries?: number;
}

export interface WriteMark {
  path: string;
  /** 'filesystem': every write on that filesystem, through any mount; 'mount': only through that mount. */
  scope: 'filesystem' | 'mount';
}

interface WriteWatchEvents {
  write: [path: string, writer: FileWriter];
  /** Writes were lost: writerOf may miss some. */
  overflow: [];
  error: [Error];
}

const ALWAYS_IGNORED = ['/proc', '/sys'];

/**
 * Watches whole filesystems (those of the directories given) for files closed after a write; the
 * helper's own writes are skipped. Emits 'write', 'overflow' and, only when someone listens, 'error'
 * (the watch has then stopped; `failure` keeps the reason either way).
 */
export class WriteWatch extends EventEmitter<WriteWatchEvents> {
  private handle: FileWritesHandle | null = null;
  private readonly recent = new Map<string, FileWriter>();
  private readonly ignored: string[];
  private readonly maxEntries: number;
  /** Why the watch stopped on its own, if it did. */
  failure: Error | null = null;

  constructor(opts: WriteWatchOptions = {}) {
    super();
    this.maxEntries = opts.maxEntries ?? 10_000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1)
      throw new Error(`WriteWatch maxEntries must be a positive integer, not ${opts.maxEntries}.`);
    this.ignored = [...ALWAYS_IGNORED, ...(opts.stateDir ? [canonical(opts.stateDir)] : [])];
  }

  /** Starts on these directories' filesystems; throws a clear Error (EPERM, ENOSYS, ...) when it cannot. */
  start(dirs: string[]): this {
    if (this.handle) return this;
    if (dirs.length === 0) throw new Error('WriteWatch needs at least one directory to watch.');
    this.failure = null;
    try {
      this.handle = native().fileWritesStart((ev) => this.dispatch(ev), dirs);
    } catch (err) {
      throw new Error(`Cannot watch file writes on ${dirs.join(', ')}: ${explain(err)}`, { cause: err });
    }
    return this;
  }

  get running(): boolean {
    return this.handle !== null;
  }

  /** What was marked: each directory's filesystem, or only its mount when the filesystem could not be. */
  get marks(): WriteMark[] {
    return this.handle ? this.handle.marks.map((m) => ({ ...m })) : [];
  }

  /** How many paths are remembered (at most maxEntries). */
  get size(): number {
    return this.recent.size;
  }

  /** The last process seen closing `file` after writing it, or null. */
  writerOf(file: string): FileWriter | null {
    // Events carry the kernel's path (symlinks resolved); the caller's may go through a symlink.
    const w = this.recent.get(path.resolve(file)) ?? this.recent.get(canonical(file));
    return w ? { ...w } : null;
  }

  /** Stops watching; what was recorded stays readable. */
  close(): void {
    this.handle?.stop();
    this.handle = null;
  }

  private dispatch(ev: FileWriteEvent): void {
    if (!this.handle) return; // queued before close()
    switch (ev.what) {
      case 'write': {
        if (ev.path === null || !ev.path.startsWith('/') || this.isIgnored(ev.path)) return;
        const writer: FileWriter = {
          pid: ev.pid,
          cgroup: ev.procCgroup === null ? null : parseProcCgroup(ev.procCgroup),
          exe: ev.exe,
          time: Date.now(),
        };
        this.remember(ev.path, writer);
        this.emit('write', ev.path, writer);
        break;
      }
      case 'overflow':
        this.emit('overflow');
        break;
      case 'error':
        this.close();
        this.failure = new Error(`Reading file-write events failed: ${ev.message}; start the watch again.`);
        if (this.listenerCount('error') > 0) this.emit('error', this.failure);
        break;
    }
  }

  private remember(file: string, writer: FileWriter): void {
    this.recent.delete(file); // re-inserted as the newest
    this.recent.set(file, writer);
    if (this.recent.size > this.maxEntries) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }

  private isIgnored(file: string): boolean {
    return this.ignored.some((dir) => file === dir || file.startsWith(dir.endsWith('/') ? dir : `${dir}/`));
  }
}

/** The path with symlinks resolved when it exists (the kernel reports those), else just absolute. */
function canonical(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

function explain(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'EPERM':
      return `${message}; fanotify filesystem marks need CAP_SYS_ADMIN (run the helper as root).`;
    case 'ENOSYS':
      return `${message}; this kernel has no fanotify (CONFIG_FANOTIFY).`;
    case 'ENOENT':
    case 'ENOTDIR':
      return `${message}; the directory does not exist.`;
    case 'EMFILE':
      return `${message}; too many fanotify groups (fs.fanotify.max_user_groups).`;
    default:
      return message;
  }
}
