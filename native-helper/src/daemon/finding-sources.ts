// Where findings come from besides the reporter's own word: the write watch (which process wrote a
// file), and where the audit goes besides its file: the system journal, with structured fields.
import { existsSync } from 'node:fs';
import type { AuditEntry } from '../api/events-model.ts';
import { sendToJournal } from '../mechanism/journal.ts';
import { WriteWatch } from '../mechanism/write-watch.ts';
import type { PolicyApp } from '../policy/model.ts';
import { FindingTarget } from './finding-target.ts';

/** Where users' files get written: their filesystems are watched (a whole filesystem per directory). */
export const DEFAULT_WATCH_DIRS = ['/home', '/root', '/tmp', '/var/tmp'];

export interface FindingSourcesOptions {
  apps: () => readonly PolicyApp[];
  cgroupRoot: string;
  stateDir: string;
  watchDirs?: readonly string[];
  /** The write watch could not start (or failed later): findings about files lose one way to the app. */
  problem: (message: string) => void;
}

export class FindingSources {
  readonly target: FindingTarget;
  private readonly writes: WriteWatch | null;

  constructor(opts: FindingSourcesOptions) {
    const dirs = (opts.watchDirs ?? DEFAULT_WATCH_DIRS).filter((d) => existsSync(d));
    let writes: WriteWatch | null;
    try {
      writes = new WriteWatch({ stateDir: opts.stateDir });
      writes.on('error', (err) => opts.problem(`the write watch stopped: ${err.message}`));
      writes.start(dirs);
    } catch (err) {
      writes = null;
      opts.problem(
        `${(err as Error).message} A file a scanner flags is then traced to an app only by who runs it or has it open.`,
      );
    }
    this.writes = writes;
    this.target = new FindingTarget({
      apps: opts.apps,
      cgroupRoot: opts.cgroupRoot,
      writerOf: (path) => this.writes?.writerOf(path) ?? null,
    });
  }

  close(): void {
    this.writes?.close();
  }
}

/** The audit entry as journal fields (SWITCHYARD_*), for log pipelines that collect from a fleet. */
export function journalFields(e: AuditEntry, instance: string): Record<string, string> {
  const f: Record<string, string> = {
    MESSAGE: e.message,
    // notice for what changes rules, info for the rest
    PRIORITY:
      e.action === 'report.refused'
        ? '4'
        : e.action.startsWith('rule.') || e.action === 'event.started'
          ? '5'
          : '6',
    SYSLOG_IDENTIFIER: 'switchyard',
    SWITCHYARD_INSTANCE: instance,
    SWITCHYARD_AUDIT_SEQ: String(e.seq),
    SWITCHYARD_AUDIT_ACTION: e.action,
    SWITCHYARD_BY: e.by,
  };
  if (e.event) f.SWITCHYARD_EVENT = e.event;
  if (e.kind) f.SWITCHYARD_EVENT_KIND = e.kind;
  if (e.app) f.SWITCHYARD_APP = e.app;
  if (e.rule) f.SWITCHYARD_RULE = e.rule;
  return f;
}

/** Mirrors audit entries to journald when it is there (sendToJournal is false without it). */
export function journalMirror(instance: string, socketPath?: string): (e: AuditEntry) => void {
  return (e) => void sendToJournal(journalFields(e, instance), socketPath);
}
