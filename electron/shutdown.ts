// One orderly stop for `npm start`. Whatever ends the session (Ctrl-C, SIGINT, SIGTERM or SIGHUP to
// the process, or the window closing) runs the same steps once, newest first, and says what it does.
// A second signal while stopping does not cut the stop short: a half-stopped lab is what we avoid.

export interface ShutdownIo {
  log(line: string): void;
  onSignal(signal: NodeJS.Signals, handler: () => void): void;
  exit(code: number): void;
}

const nodeIo: ShutdownIo = {
  log: (line) => console.log(line),
  onSignal: (signal, handler) => void process.on(signal, handler),
  exit: (code) => process.exit(code),
};

const SIGNAL_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

export class Shutdown {
  private readonly steps: Array<{ what: string; run: () => Promise<unknown> }> = [];
  private stopping: Promise<number> | null = null;

  constructor(private readonly io: ShutdownIo = nodeIo) {}

  /** Something to stop; steps run in reverse order of adding (the window before the helper). */
  add(what: string, run: () => Promise<unknown>): void {
    this.steps.push({ what, run });
  }

  /** Signals stop the session and then exit with 128 + the signal's number. */
  listen(signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']): void {
    for (const signal of signals)
      this.io.onSignal(signal, () => {
        void this.stop(`${signal} received`, SIGNAL_CODES[signal] ?? 1).then((code) => this.io.exit(code));
      });
  }

  get isStopping(): boolean {
    return this.stopping !== null;
  }

  /** Runs every step once; later calls wait for the same stop. Resolves with the exit code. */
  stop(reason: string, code: number): Promise<number> {
    if (this.stopping) {
      this.io.log(`${reason}: still stopping, please wait.`);
      return this.stopping;
    }
    const steps = [...this.steps].reverse();
    this.io.log(
      steps.length
        ? `${reason}: stopping Switchyard (${steps.map((s) => s.what).join(', ')})…`
        : `${reason}: stopping Switchyard.`,
    );
    this.stopping = (async () => {
      for (const step of steps) {
        try {
          await step.run();
        } catch (err) {
          this.io.log(`Could not stop ${step.what}: ${(err as Error).message}`);
          code ||= 1;
        }
      }
      this.io.log('Switchyard stopped.');
      return code;
    })();
    return this.stopping;
  }
}
