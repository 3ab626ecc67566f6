// After a burst of work (start, an apply), the helper hands the malloc memory it freed back to the
// kernel once things have been quiet for a while: glibc keeps it resident otherwise, and an idle
// helper carried some 45 MB of it (test/bench/idle.bench.ts, "resident by mapping": [heap]). Smaller
// bursts (clients' requests, events) are caught by a trim every IDLE_TRIM_MS; a trim of a heap with
// little to give back takes well under a millisecond.
import { native } from '../mechanism/native.ts';

const QUIET_MS = 5000;
const IDLE_TRIM_MS = 60_000;

export class MemoryTrim {
  private timer: NodeJS.Timeout | null = null;
  private readonly every: NodeJS.Timeout;

  constructor(
    private readonly trim: () => boolean = () => native().trimMemory(),
    private readonly quietMs = QUIET_MS,
    idleTrimMs = IDLE_TRIM_MS,
  ) {
    this.every = setInterval(() => this.trimNow(), idleTrimMs);
    this.every.unref();
  }

  /** Work happened: trim once nothing else has happened for quietMs. */
  poke(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.trimNow();
    }, this.quietMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    clearInterval(this.every);
  }

  private trimNow(): void {
    try {
      this.trim();
    } catch {
      // an addon built before trimMemory existed: memory stays as it was
    }
  }
}
