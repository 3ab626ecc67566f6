// A real Switchyard helper running inside a lab's desktop namespace, for the integration and
// end-to-end suites, the benchmarks and `npm start` on the lab.
// It enters only the network namespace (nsenter --net): `ip netns exec` would remount /sys and hide
// the cgroup2 and bpffs mounts the helper needs.
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HelperSocketClient } from '../../native-helper/src/api/client.ts';
import { type RunResult, run } from '../../native-helper/src/mechanism/exec.ts';
import { type Supervised, supervisor } from '../../native-helper/src/mechanism/supervisor.ts';
import type { Lab } from './lab.ts';

export const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
export const SWITCHYARD = join(REPO, 'native-helper/bin/switchyard');
/** Wrap for a private mount namespace without bpffs, as on a fresh machine (see fresh-mounts.sh). */
export const FRESH_MOUNTS = [join(REPO, 'test/lab/fresh-mounts.sh')];

export interface HelperProcessOptions {
  /** Default: the lab's prefix, so `lab down` finds its leftovers. */
  instance?: string;
  socketMode?: string;
  managedPolicy?: string;
  /** Kept across restarts of the same RunningHelper. */
  stateDir?: string;
  /** A command line the helper's runs inside, e.g. FRESH_MOUNTS (it must exec its arguments). */
  wrap?: string[];
  /** The switchyard command (default SWITCHYARD, the checkout's tsx launcher), e.g. a packaged bundle. */
  command?: string[];
}

export class RunningHelper {
  private child: Supervised | null = null;
  readonly socket: string;
  readonly instance: string;
  readonly stateDir: string;
  readonly logFile: string;

  constructor(
    readonly lab: Lab,
    private readonly opts: HelperProcessOptions = {},
  ) {
    this.instance = opts.instance ?? lab.prefix;
    this.socket = `/run/switchyard/${this.instance}.sock`;
    this.stateDir = opts.stateDir ?? join('/run/switchyard-lab', lab.prefix, `helper-${this.instance}`);
    this.logFile = join('/run/switchyard-lab', lab.prefix, `helper-${this.instance}.log`);
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Start the helper and wait until it answers status.get. */
  async start(timeoutMs = 60_000): Promise<void> {
    mkdirSync(this.stateDir, { recursive: true });
    const argv = this.inDesktop([
      'helper',
      '--data-dir',
      join(this.lab.dataDir),
      '--managed-policy',
      this.opts.managedPolicy ?? join(this.stateDir, 'managed.json'),
      ...(this.opts.socketMode ? ['--socket-mode', this.opts.socketMode] : []),
    ]);
    const log = createWriteStream(this.logFile, { flags: 'a' });
    // Its own process group: a Ctrl-C in the terminal reaches `npm start`, which stops it in order.
    const child = supervisor.start(argv, {
      name: `the helper ${this.instance}`,
      detached: true,
      stdout: 'pipe',
      stderr: 'pipe',
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.child = child;
    const exited = child.exited.then(({ code }) => {
      throw new Error(`the helper exited with ${code} while starting:\n${this.log()}`);
    });
    await Promise.race([this.waitReady(timeoutMs), exited]);
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const c = await HelperSocketClient.connect(this.socket);
        try {
          await c.call('status.get', {});
          return;
        } finally {
          c.close();
        }
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(
            `the helper did not come up in ${timeoutMs} ms: ${(err as Error).message}\n${this.log()}`,
            { cause: err },
          );
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** SIGTERM and wait, as a restart or an upgrade does: the kernel state stays (kill switches hold). */
  async terminate(): Promise<number | null> {
    return this.signal('SIGTERM');
  }

  /** Stop and remove everything the helper created (`switchyard reset`), as the lab and tests want. */
  async stop(): Promise<number | null> {
    const code = await this.terminate();
    await this.reset();
    return code;
  }

  /** `switchyard reset` for this instance, in the desktop namespace where its rules are. */
  async reset(): Promise<void> {
    await run(this.inDesktop(['reset']));
  }

  /** `switchyard CMD` for this instance in the lab's desktop network namespace (inside wrap, if any). */
  private inDesktop(cmd: string[]): string[] {
    const [name, ...rest] = cmd;
    return [
      ...(this.opts.wrap ?? []),
      'nsenter',
      `--net=/run/netns/${this.lab.nsName('desktop')}`,
      '--',
      ...(this.opts.command ?? [SWITCHYARD]),
      name!,
      '--instance',
      this.instance,
      '--socket',
      this.socket,
      '--state-dir',
      this.stateDir,
      ...rest,
    ];
  }

  /** SIGKILL: a crash. Kernel state stays behind (failing closed). */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  private async signal(sig: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    if (!child.signal(sig)) return (await child.exited).code;
    const { code } = await child.exited;
    this.child = null;
    return code;
  }

  /** A client connection; close it when done. */
  client(): Promise<HelperSocketClient> {
    return HelperSocketClient.connect(this.socket);
  }

  /** Run the CLI against this helper (from the host namespace). */
  cli(args: string[], opts: { allowFailure?: boolean } = {}): Promise<RunResult> {
    return run([SWITCHYARD, ...args, '--socket', this.socket], { allowFailure: opts.allowFailure ?? false });
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '(no helper log)';
    }
  }
}

export async function startHelper(lab: Lab, opts: HelperProcessOptions = {}): Promise<RunningHelper> {
  const h = new RunningHelper(lab, opts);
  await h.start();
  return h;
}
