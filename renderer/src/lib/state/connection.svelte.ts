// The connection to the helper and what to show for it: the app, a brief "connecting", or the
// helper-unavailable screen with the fix and a retry countdown.
import type { HelperConnection } from '#switchyard/api/shell-schema.ts';

export type Screen = 'connecting' | 'app' | 'unavailable';

export function screenFor(conn: HelperConnection | null): Screen {
  if (!conn || conn.state === 'connecting') return 'connecting';
  return conn.state === 'connected' ? 'app' : 'unavailable';
}

export interface FixStep {
  text: string;
  command?: string;
}

export interface Diagnosis {
  title: string;
  steps: FixStep[];
}

/** What went wrong, in words, and exactly how to fix it. */
export function diagnose(conn: HelperConnection): Diagnosis {
  // The WebSocket carrier names its ws:// address when the web bridge itself is the problem.
  if (/^wss?:/.test(conn.socket) && (conn.state === 'absent' || conn.state === 'refused')) {
    return {
      title:
        conn.state === 'absent'
          ? 'The Switchyard web bridge is not running'
          : 'The web bridge refused this page',
      steps: [
        { text: 'Start the bridge (or restart it for a fresh link):', command: 'switchyard web' },
        { text: 'Open the link it prints; each link works in one browser only.' },
      ],
    };
  }
  switch (conn.state) {
    case 'refused':
      return {
        title: 'Switchyard may not talk to its helper',
        steps: [
          { text: 'Add yourself to the switchyard group:', command: 'sudo usermod -aG switchyard $USER' },
          { text: 'Log out and back in so the new group applies, then open Switchyard again.' },
        ],
      };
    case 'incompatible':
      return {
        title: 'The helper and this app are different versions',
        steps: [
          {
            text: 'Update Switchyard so the app and the helper match, then restart the helper:',
            command: 'sudo systemctl restart switchyard-helper',
          },
        ],
      };
    case 'absent':
    case 'connecting':
    case 'connected':
      return {
        title: 'The Switchyard helper is not running',
        steps: [
          { text: 'Start it:', command: 'sudo systemctl start switchyard-helper' },
          { text: 'To start it at every boot:', command: 'sudo systemctl enable switchyard-helper' },
          { text: 'If it stops again, its log says why:', command: 'journalctl -u switchyard-helper -n 50' },
        ],
      };
  }
}

export class ConnectionState {
  current = $state<HelperConnection | null>(null);
  /** When the next automatic retry happens (ms since epoch), for the countdown. */
  retryAt = $state<number | null>(null);
  now = $state(Date.now());
  screen = $derived(screenFor(this.current));
  secondsLeft = $derived(
    this.retryAt === null ? null : Math.max(0, Math.ceil((this.retryAt - this.now) / 1000)),
  );
  #clock: ReturnType<typeof setInterval> | null = null;
  #now: () => number;

  constructor(now: () => number = () => Date.now()) {
    this.#now = now;
    this.now = now();
  }

  set(conn: HelperConnection): void {
    this.current = conn;
    this.now = this.#now();
    this.retryAt = conn.retryInMs === null ? null : this.now + conn.retryInMs;
    if (this.retryAt !== null && !this.#clock) this.#clock = setInterval(() => (this.now = this.#now()), 250);
    if (this.retryAt === null && this.#clock) {
      clearInterval(this.#clock);
      this.#clock = null;
    }
  }

  dispose(): void {
    if (this.#clock) clearInterval(this.#clock);
    this.#clock = null;
  }
}
