// The append-only audit log: one JSON line per entry, written with one write(2) on an O_APPEND file
// and synced, so a crash leaves whole lines only (a torn last line is cut off when the log is opened).
// Rotated by size into audit.log.1 … audit.log.N; sequence numbers keep counting across rotations.
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { AuditEntry, type AuditNote } from '../api/events-model.ts';

export interface AuditLogOptions {
  /** Rotate when the current file passes this size. */
  maxBytes?: number;
  /** Rotated files kept. */
  keep?: number;
  /** Also hand each entry here (the system journal); failures there never stop the log. */
  mirror?: (entry: AuditEntry) => void;
  now?: () => Date;
}

export type AuditInput = AuditNote;

export interface AuditQuery {
  since?: string;
  app?: string;
  limit?: number;
}

export class AuditLog {
  readonly path: string;
  private fd: number;
  private seq = 0;
  private size = 0;
  private readonly maxBytes: number;
  private readonly keep: number;

  constructor(
    dir: string,
    private readonly opts: AuditLogOptions = {},
  ) {
    this.path = join(dir, 'audit.log');
    this.maxBytes = opts.maxBytes ?? 4 * 1024 * 1024;
    this.keep = opts.keep ?? 5;
    this.fd = this.open();
  }

  /** Appends one entry and returns it with its number and time. */
  append(input: AuditInput): AuditEntry {
    const entry: AuditEntry = {
      seq: ++this.seq,
      time: (this.opts.now?.() ?? new Date()).toISOString(),
      event: input.event ?? null,
      kind: input.kind ?? null,
      app: input.app ?? null,
      rule: input.rule ?? null,
      action: input.action,
      by: input.by,
      message: input.message,
    };
    const line = Buffer.from(`${JSON.stringify(entry)}\n`);
    if (this.size > 0 && this.size + line.length > this.maxBytes) this.rotate();
    writeSync(this.fd, line);
    fdatasyncSync(this.fd);
    this.size += line.length;
    try {
      this.opts.mirror?.(entry);
    } catch {
      // The journal is a copy; the file is the record.
    }
    return entry;
  }

  /** Entries oldest first, across the rotated files; the newest `limit` that match. */
  read(q: AuditQuery = {}): AuditEntry[] {
    const since = q.since ? Date.parse(q.since) : -Infinity;
    const out: AuditEntry[] = [];
    for (const file of this.files()) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        const e = parseLine(line);
        if (!e || Date.parse(e.time) < since || (q.app && e.app !== q.app)) continue;
        out.push(e);
      }
    }
    return q.limit ? out.slice(-q.limit) : out;
  }

  close(): void {
    closeSync(this.fd);
  }

  private files(): string[] {
    const rotated = [];
    for (let i = this.keep; i >= 1; i--)
      if (existsSync(`${this.path}.${i}`)) rotated.push(`${this.path}.${i}`);
    return [...rotated, this.path];
  }

  private open(): number {
    const fd = openSync(this.path, 'a+', 0o600);
    // Cut a torn last line (a crash mid-write), then continue the numbering.
    const text = readFileSync(this.path, 'utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) ftruncateSync(fd, Buffer.byteLength(text.slice(0, end)));
    this.size = fstatSync(fd).size;
    this.seq = lastSeq(text.slice(0, end)) ?? this.lastRotatedSeq() ?? 0;
    return fd;
  }

  private lastRotatedSeq(): number | null {
    const f = `${this.path}.1`;
    return existsSync(f) ? lastSeq(readFileSync(f, 'utf8')) : null;
  }

  private rotate(): void {
    closeSync(this.fd);
    rmSync(`${this.path}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--)
      if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, 'a+', 0o600);
    this.size = 0;
  }
}

function parseLine(line: string): AuditEntry | null {
  try {
    const r = AuditEntry.safeParse(JSON.parse(line));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

function lastSeq(text: string): number | null {
  const lines = text.split('\n').filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const e = parseLine(lines[i]!);
    if (e) return e.seq;
  }
  return null;
}
