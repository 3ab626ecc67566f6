// After a burst of work (start, an apply), the helper hands the malloc memory it freed back to the
// kernel once things have been quiet for a while: glibc keeps it resident otherwise, and an idle
// helper carried some 45 MB of it (test/bench/idle.bench.ts, "resident by mapping": [heap]).
import { native } from '../mechanism/native.ts';

const QUIET_MS = 5000;

export class MemoryTrim {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly trim: () => boolean = () => native().trimMemory(),
    private readonly quietMs = QUIET_MS,
  ) {}

  /** Work happened: trim once nothing else has happened for quietMs. */
  poke(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.trim();
      } catch {
        // an addon built before trimMemory existed: memory stays as it was
      }
    }, this.quietMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
