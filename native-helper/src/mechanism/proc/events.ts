// Process exec/fork/exit events from the kernel's proc connector, as an EventEmitter.
import { EventEmitter } from 'node:events';
import { native } from '../native.ts';
import type { ProcEvent, ProcEventsHandle } from '../native.ts';

export type { ProcEvent } from '../native.ts';
export type ExecEvent = Extract<ProcEvent, { what: 'exec' }>;
export type ForkEvent = Extract<ProcEvent, { what: 'fork' }>;
export type ExitEvent = Extract<ProcEvent, { what: 'exit' }>;

export interface ProcEventsOptions {
  /**
   * The initial network namespace, where the kernel delivers proc events (default /proc/1/ns/net).
   * The addon opens the connector socket there from its reader thread, so the helper may live in
   * another netns.
   */
  netnsPath?: string;
  /** Kernel receive buffer for events (default 8 MiB). Smaller overflows sooner under fork bursts. */
  receiveBufferBytes?: number;
  /** Only exec events: the kernel drops fork and exit before they wake the reader (an idle helper). */
  execOnly?: boolean;
}

interface ProcEventsMap {
  exec: [ExecEvent];
  fork: [ForkEvent];
  exit: [ExitEvent];
  /** Events were dropped: rescan /proc to catch up. */
  overflow: [];
  error: [Error];
}

/**
 * Emits 'exec', 'fork', 'exit' (timestampNs is CLOCK_MONOTONIC, comparable with process.hrtime.bigint()),
 * 'overflow' when the kernel dropped events, and 'error' when reading stopped.
 * Fork events include threads (pid !== tgid).
 */
export class ProcEvents extends EventEmitter<ProcEventsMap> {
  private handle: ProcEventsHandle | null = null;

  /** Starts listening; throws (EPERM, EACCES...) synchronously if the connector cannot be opened. */
  start(opts: ProcEventsOptions = {}): this {
    if (this.handle) return this;
    const nativeOpts: { netnsPath?: string; receiveBufferBytes?: number; execOnly?: boolean } = {};
    if (opts.netnsPath !== undefined) nativeOpts.netnsPath = opts.netnsPath;
    if (opts.receiveBufferBytes !== undefined) nativeOpts.receiveBufferBytes = opts.receiveBufferBytes;
    if (opts.execOnly) nativeOpts.execOnly = true;
    this.handle = native().procEventsStart((ev) => this.dispatch(ev), nativeOpts);
    return this;
  }

  get running(): boolean {
    return this.handle !== null;
  }

  stop(): void {
    this.handle?.stop();
    this.handle = null;
  }

  private dispatch(ev: ProcEvent): void {
    switch (ev.what) {
      case 'exec':
        this.emit('exec', ev);
        break;
      case 'fork':
        this.emit('fork', ev);
        break;
      case 'exit':
        this.emit('exit', ev);
        break;
      case 'overflow':
        this.emit('overflow');
        break;
      case 'error':
        this.stop();
        this.emit('error', new Error(`proc connector read failed: ${ev.message}; restart the event reader.`));
        break;
    }
  }
}
