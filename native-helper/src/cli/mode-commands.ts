// `switchyard mode [include | exclude --via EGRESS [--kill-switch on|off]]` and `switchyard lan APP on|off`:
// which traffic the helper routes (docs/egress.md, "Everything but") and LAN access per app.
import type { ModeView } from '../api/schema.ts';
import { type Parsed, UsageError, str } from './args.ts';
import { resolveApp } from './app-names.ts';
import type { Command } from './commands.ts';
import { withClient } from './connect.ts';
import { print } from './format.ts';

export function modeText(v: ModeView): string {
  if (v.mode.kind === 'include') return 'include mode: only the apps given a choice are routed';
  const state = v.viaUsable ? 'usable' : 'down';
  return `exclude mode: via ${v.mode.via} (${state}), kill switch ${v.mode.killSwitch ? 'on' : 'off'}\nEvery process in no app and every app on default goes through ${v.mode.via}; apps with a choice keep it.`;
}

function onOff(text: string | undefined, what: string): boolean {
  if (text === 'on') return true;
  if (text === 'off') return false;
  throw new UsageError(`${what} takes on or off${text === undefined ? '' : `, not ${JSON.stringify(text)}`}`);
}

function noMore(p: Parsed, usage: string): void {
  if (p.positionals.length)
    throw new UsageError(`unexpected ${JSON.stringify(p.positionals[0])}; usage: switchyard ${usage}`);
}

export const modeCommands: Command[] = [
  {
    name: 'mode',
    usage: 'mode [--json]',
    summary: 'show include or exclude mode (which traffic the helper routes)',
    example: 'switchyard mode',
    runsAlone: true,
    run: (p) => {
      noMore(p, 'mode');
      return withClient(p, async (c) => {
        const v = await c.call('mode.get', {});
        print(p, v, () => modeText(v));
      });
    },
  },
  {
    name: 'mode include',
    usage: 'mode include',
    summary: 'route only the apps given a choice (the default)',
    example: 'switchyard mode include',
    run: (p) => {
      noMore(p, 'mode include');
      return withClient(p, async (c) => {
        const v = await c.call('mode.set', { mode: { kind: 'include' } });
        print(p, v, () => modeText(v));
      });
    },
  },
  {
    name: 'mode exclude',
    usage: 'mode exclude --via EGRESS [--kill-switch on|off]',
    summary: 'send everything except the apps with a choice through one tunnel or interface',
    example: 'switchyard mode exclude --via sy-office --kill-switch on',
    notes: [
      'EGRESS is a tunnel from `switchyard tunnel add` or an interface such as wg0.',
      'With the kill switch on (the default), traffic of processes in no app leaves by no other interface while EGRESS is down.',
      "A tunnel's own UDP never goes into it; a WireGuard interface's socket needs its fwmark (wg-quick sets one).",
    ],
    options: { via: { type: 'string' }, 'kill-switch': { type: 'string' } },
    run: (p) => {
      noMore(p, 'mode exclude --via EGRESS [--kill-switch on|off]');
      const via = str(p, 'via');
      if (!via) throw new UsageError('mode exclude: name the egress with --via, e.g. --via sy-office');
      const ks = str(p, 'kill-switch');
      const killSwitch = ks === undefined ? true : onOff(ks, '--kill-switch');
      return withClient(p, async (c) => {
        const v = await c.call('mode.set', { mode: { kind: 'exclude', via, killSwitch } });
        print(p, v, () => modeText(v));
      });
    },
  },
  {
    name: 'lan',
    usage: 'lan APP on|off',
    summary: 'let an app reach its local networks even while its kill switch holds it',
    example: 'switchyard lan firefox on',
    notes: ["Local networks: the uplinks' subnets (IPv4 and IPv6), link-local and multicast DNS."],
    run: (p) => {
      const [appText, state, extra] = p.positionals;
      if (!appText || extra !== undefined) throw new UsageError('lan: usage: switchyard lan APP on|off');
      const on = onOff(state, 'lan');
      return withClient(p, async (c) => {
        const app = await resolveApp(c, appText);
        const a = await c.call('apps.setLanAccess', { app, on });
        print(p, a, () => `${a.name}: LAN access ${on ? 'on' : 'off'}`);
      });
    },
  },
];
