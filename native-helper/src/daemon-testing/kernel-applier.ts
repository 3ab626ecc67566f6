// Stands in for the reconciler in unit tests of daemon/egress-loop.ts: it records each desired state it
// is given, can be told to fail or to hold an apply until the test lets it go, and counts how many
// applies run at once (the loop must never run two).
import type { KernelApplier } from '../daemon/egress-loop.ts';
import type { DesiredState } from '../reconcile/types.ts';

export class RecordingApplier implements KernelApplier {
  /** The desired states applied successfully, in order: the last one is what the kernel holds. */
  readonly applied: DesiredState[] = [];
  attempts = 0;
  inFlight = 0;
  maxInFlight = 0;
  tornDown = false;
  private readonly failures: Error[] = [];
  private gate: Promise<void> | null = null;

  /** The next `times` applies fail with this error (the kernel keeps the previous state). */
  failNext(error: Error, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(error);
  }

  /** Applies wait from now until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise<void>((r) => (release = r));
    return () => {
      this.gate = null;
      release();
    };
  }

  get last(): DesiredState | undefined {
    return this.applied.at(-1);
  }

  async apply(desired: DesiredState): Promise<void> {
    this.attempts++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gate) await this.gate;
      const failure = this.failures.shift();
      if (failure) throw failure;
      this.applied.push(structuredClone(desired));
    } finally {
      this.inFlight--;
    }
  }

  async teardown(): Promise<void> {
    this.tornDown = true;
  }
}
