// Include or exclude mode (docs/egress.md): which traffic the helper routes. Include: only the apps
// given an egress. Exclude: everything not in an app goes through one egress, with a global kill switch.
// The helper's mode.get is the truth; a change from the CLI or the tray arrives as policy.changed.
import type { Interface, ModeView, PolicyMode } from '#switchyard/api/schema.ts';
import { toApiError, type SwitchyardClient } from '../transport/types.ts';
import type { Unavailable } from './availability.ts';
import { inFormWords } from './helper-words.ts';

/** The field labels a refusal of mode.set names (never the API path "mode.via"). */
const LABELS = { 'mode.via': 'Egress', 'mode.killSwitch': 'Kill switch', mode: 'Mode' };

/** The two choices, in the user's words. */
export const MODE_LABELS = {
  include: 'Only the apps I choose',
  exclude: 'Every app except these',
} as const;

/** One line on what the mode in force does, and what happens now if its egress is not up. */
export function modeSentence(mode: PolicyMode, unavailable: Unavailable, paused = false): string {
  if (mode.kind === 'include')
    return 'Only the apps you give an egress are routed; everything else uses the system routing.';
  const what = `Apps on System default and everything not listed here (system services, other programs) go through ${mode.via}; apps given an egress of their own keep it.`;
  const down = unavailable[mode.via];
  if (!down) return what;
  if (paused || !mode.killSwitch)
    return `${mode.via} is ${down}: what it carries uses the system routing until it is back.`;
  return `${mode.via} is ${down}: the kill switch blocks what it carries until it is back.`;
}

/** The kill switch's line, worded as an app's ("On: … blocked", "Off: … system routing"). */
export function killSwitchSentence(mode: PolicyMode & { kind: 'exclude' }): string {
  return mode.killSwitch
    ? `On: when ${mode.via} is down, that traffic is blocked.`
    : `Off: when ${mode.via} is down, that traffic uses the system routing.`;
}

/** The egress offered first for exclude mode: a usable tunnel or WireGuard, else any usable one. */
export function defaultVia(candidates: readonly Interface[], unavailable: Unavailable): string | null {
  const up = candidates.filter((c) => !unavailable[c.name]);
  const tunnel = up.find((c) => c.kind === 'tunnel' || c.kind === 'wireguard');
  return (tunnel ?? up[0] ?? candidates[0])?.name ?? null;
}

export class ModeState {
  view = $state<ModeView | null>(null);
  loadError = $state<string | null>(null);
  busy = $state(false);
  /** Why the last change was refused, in the user's words; cleared by the next change. */
  error = $state<string | null>(null);
  #client: SwitchyardClient;

  constructor(client: SwitchyardClient) {
    this.#client = client;
  }

  /** The mode in force (include until the helper has said). */
  get mode(): PolicyMode {
    return this.view?.mode ?? { kind: 'include' };
  }

  async load(): Promise<void> {
    try {
      this.view = await this.#client.call('mode.get', {});
      this.loadError = null;
    } catch (e) {
      this.loadError = `The routing mode could not be read: ${toApiError(e).message}`;
    }
  }

  /** Switch mode; resolves true once the helper has it in force. */
  async set(mode: PolicyMode): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      this.view = await this.#client.call('mode.set', { mode });
      return true;
    } catch (e) {
      const what =
        mode.kind === 'include'
          ? 'Could not route only the apps you choose'
          : `Could not send every app except these through ${mode.via}`;
      this.error = `${what}: ${inFormWords(toApiError(e), LABELS)}`;
      return false;
    } finally {
      this.busy = false;
    }
  }

  include(): Promise<boolean> {
    return this.set({ kind: 'include' });
  }

  /** Exclude mode through `via`; the kill switch stays as it is (on when coming from include). */
  exclude(via: string, killSwitch = this.mode.kind === 'exclude' ? this.mode.killSwitch : true) {
    return this.set({ kind: 'exclude', via, killSwitch });
  }
}
