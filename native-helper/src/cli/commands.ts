// The CLI's commands. Each is a thin call into the helper API plus human formatting.
import { describeChoice } from '../api/describe.ts';
import type { EgressChoice, EventEnvelope } from '../api/schema.ts';
import { type OptionSpec, type Parsed, UsageError, list, required, str } from './args.ts';
import { resolveApp } from './app-names.ts';
import { withClient } from './connect.ts';
import { explainArgs, explanationText, unmanagedArgs, unmanagedText, withPort } from './explain-format.ts';
import { print, rate, table } from './format.ts';
import { appDetails, eventLine, interfaceRows, stateText, statusText } from './state-format.ts';
import { wireguardLines } from './wireguard-format.ts';
import { eventCommands } from './event-commands.ts';
import { connectionCommands } from './connection-commands.ts';
import { modeCommands } from './mode-commands.ts';
import { ruleCommands } from './rule-commands.ts';
import { tunnelCommands } from './tunnel-commands.ts';
import { dnsCommands } from './dns-commands.ts';

export interface Command {
  name: string;
  usage: string;
  summary: string;
  /** One command line that works, shown by `switchyard COMMAND --help` and the family's help. */
  example?: string;
  /** More lines for `switchyard COMMAND --help`: value formats, what repeats. */
  notes?: string[];
  options?: OptionSpec;
  /** A family word that does something alone (`switchyard mode` shows the mode) instead of its help. */
  runsAlone?: boolean;
  run(p: Parsed): Promise<number | void>;
}

export function parseChoice(spec: string, killSwitch: boolean): EgressChoice {
  if (spec === 'default') return { mode: 'default' };
  if (spec === 'block') return { mode: 'block' };
  const egresses = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!egresses.length)
    throw new UsageError('egress: give default, block or a comma-separated list of interfaces');
  return { mode: 'ordered', egresses, killSwitch };
}

/** How long `launch` waits before it says an app started: one that fails at once is gone by then. */
const LAUNCH_SETTLE_MS = 1500;

export const commands: Command[] = [
  {
    name: 'status',
    usage: 'status',
    summary: 'the helper, its policy and tunnels, and every problem (tunnels, apps without their egress)',
    run: (p) =>
      withClient(p, async (c) => {
        const s = await c.call('status.get', {});
        const tunnels = await c.call('tunnels.list', {});
        const apps = await c.call('apps.list', {});
        print(p, { ...s, tunnels }, () => statusText(s, tunnels, apps));
      }),
  },
  {
    name: 'apps',
    usage: 'apps [--running] [--rescan]',
    summary: 'list apps with their egress and traffic (--rescan: read desktop files and processes again)',
    options: { running: { type: 'boolean' }, rescan: { type: 'boolean' } },
    run: (p) =>
      withClient(p, async (c) => {
        if (p.values.rescan) await c.call('catalog.refresh', {});
        let apps = await c.call('apps.list', {});
        if (p.values.running) apps = apps.filter((a) => a.pids.length > 0);
        print(p, apps, () =>
          apps.length === 0
            ? 'No apps yet. Add one with `switchyard app add`, or start one with `switchyard run`.'
            : table(
                ['app', 'name', 'choice', 'egress', 'procs', 'rate ↑/↓'],
                apps.map((a) => [
                  a.id + (a.managed ? ' 🔒' : ''),
                  a.name,
                  describeChoice(a.choice),
                  stateText(a),
                  String(a.pids.length),
                  `${rate(a.counters.txRate)} / ${rate(a.counters.rxRate)}`,
                ]),
              ),
        );
      }),
  },
  {
    name: 'app show',
    usage: 'app show APP',
    summary: 'show one app',
    run: (p) =>
      withClient(p, async (c) => {
        const name = p.positionals[0];
        if (!name) throw new UsageError('app show: which app? e.g. `switchyard app show firefox`');
        const a = await c.call('apps.get', { id: await resolveApp(c, name) });
        print(p, a, () => appDetails(a));
      }),
  },
  {
    name: 'app add',
    usage:
      'app add --name NAME [--id ID] [--exe PATH]… [--cmdline REGEX] [--desktop-id ID] [--flatpak-id ID]',
    summary: 'add an app by hand',
    options: {
      name: { type: 'string' },
      id: { type: 'string' },
      exe: { type: 'string', multiple: true },
      cmdline: { type: 'string' },
      'desktop-id': { type: 'string' },
      'flatpak-id': { type: 'string' },
    },
    run: (p) =>
      withClient(p, async (c) => {
        const exe = list(p, 'exe');
        const a = await c.call('apps.add', {
          name: required(p, 'name', 'a name people will recognise'),
          ...(str(p, 'id') ? { id: str(p, 'id') } : {}),
          matchers: {
            ...(exe.length ? { exe } : {}),
            ...(str(p, 'cmdline') ? { cmdline: str(p, 'cmdline') } : {}),
            ...(str(p, 'desktop-id') ? { desktopId: str(p, 'desktop-id') } : {}),
            ...(str(p, 'flatpak-id') ? { flatpakId: str(p, 'flatpak-id') } : {}),
          },
        });
        print(p, a, () => `added ${a.id}\n${appDetails(a)}`);
      }),
  },
  {
    name: 'app rm',
    usage: 'app rm APP',
    summary: 'remove a hand-added app',
    run: (p) =>
      withClient(p, async (c) => {
        const name = p.positionals[0];
        if (!name) throw new UsageError('app rm: which app? e.g. `switchyard app rm my-tool`');
        const id = await resolveApp(c, name);
        const r = await c.call('apps.remove', { id });
        print(p, r, () => `removed ${id}`);
      }),
  },
  {
    name: 'interfaces',
    usage: 'interfaces',
    summary: 'list network interfaces and the apps on each',
    run: (p) =>
      withClient(p, async (c) => {
        const list = await c.call('interfaces.list', {});
        const tunnels = await c.call('tunnels.list', {});
        print(p, list, () => interfaceRows(list, tunnels) + wireguardLines(list));
      }),
  },
  {
    name: 'egress set',
    usage: 'egress set APP default|block|IFACE… [--kill-switch] [--allow-absent]',
    summary: "set an app's egress (the first usable interface of the list wins)",
    example: 'switchyard egress set firefox wlan0 enp3s0 --kill-switch',
    notes: [
      'APP: its id or its name, in any case. IFACE: interfaces in order of preference, separated by',
      'spaces or commas. --kill-switch: when none is usable, block the app rather than use the system',
      'default. An interface the helper cannot see is refused unless --allow-absent (a tether or a dock',
      'that comes later).',
    ],
    options: { 'kill-switch': { type: 'boolean' }, 'allow-absent': { type: 'boolean' } },
    run: async (p) => {
      const [appName, ...specs] = p.positionals;
      if (!appName || !specs.length)
        throw new UsageError(
          'egress set: name the app and its egress, e.g. `switchyard egress set firefox wlan0 enp3s0`',
        );
      const choice = parseChoice(specs.join(','), p.values['kill-switch'] === true);
      if (choice.mode !== 'ordered' && p.values['kill-switch']) {
        throw new UsageError('--kill-switch goes with a list of interfaces, not default or block');
      }
      await withClient(p, async (c) => {
        const app = await resolveApp(c, appName);
        const a = await c.call('egress.set', { app, choice, allowAbsent: p.values['allow-absent'] === true });
        print(p, a, () => `${a.id}: ${describeChoice(a.choice)}; now ${stateText(a)}`);
      });
    },
  },
  {
    name: 'explain',
    usage: 'explain (APP | --unmanaged) HOST[:PORT] [--udp]',
    summary: 'which egress a connection would take, and why',
    example: 'switchyard explain firefox example.org:443',
    notes: [
      'HOST: a name, resolved as the app would (its resolver, within 1.5 s), or an address; [IPv6]:PORT.',
      'PORT: 443 when left out. `--app APP --dst HOST:PORT` also works.',
      'Says when an app with LAN access reaches a local destination directly, and, in exclude mode, whether an app keeps its own choice or goes through the egress of the mode.',
      '--unmanaged: for a process in no app, e.g. `switchyard explain --unmanaged 192.0.2.1:443` (exclude mode sends it through its egress; include mode leaves it to the system routing).',
    ],
    options: {
      app: { type: 'string' },
      dst: { type: 'string' },
      udp: { type: 'boolean' },
      unmanaged: { type: 'boolean' },
    },
    run: async (p) => {
      const protocol = p.values.udp ? 'udp' : 'tcp';
      if (p.values.unmanaged) {
        const destination = withPort(unmanagedArgs(p));
        return withClient(p, async (c) => {
          const e = await c.call('mode.explain', { destination, protocol });
          print(p, e, () => unmanagedText(e));
        });
      }
      const [appText, hostText] = explainArgs(p);
      const destination = withPort(hostText);
      await withClient(p, async (c) => {
        const e = await c.call('explain', {
          app: await resolveApp(c, appText),
          destination,
          protocol,
        });
        print(p, e, () => explanationText(e));
      });
    },
  },
  ...ruleCommands,
  {
    name: 'events',
    usage: 'events [--history N] [--no-follow]',
    summary: 'print recent events, then follow new ones',
    options: { history: { type: 'string' }, 'no-follow': { type: 'boolean' } },
    run: (p) =>
      withClient(
        p,
        async (c, conn) => {
          const limit = Number(str(p, 'history') ?? '20');
          if (!Number.isInteger(limit) || limit < 0 || limit > 5000)
            throw new UsageError('--history takes 0 to 5000');
          const show = (e: EventEnvelope) => console.log(p.json ? JSON.stringify(e) : eventLine(e));
          if (limit > 0) for (const e of await c.call('events.history', { limit })) show(e);
          if (p.values['no-follow']) return;
          await conn.follow(show);
        },
        { keepOpen: true },
      ),
  },
  ...eventCommands,
  ...connectionCommands,
  ...modeCommands,
  {
    name: 'pause',
    usage: 'pause',
    summary: 'pause all policies (apps use the system default)',
    run: (p) =>
      withClient(p, async (c) =>
        print(p, await c.call('policy.pause', { paused: true }), () => 'policies paused'),
      ),
  },
  {
    name: 'resume',
    usage: 'resume',
    summary: 'resume all policies',
    run: (p) =>
      withClient(p, async (c) =>
        print(p, await c.call('policy.pause', { paused: false }), () => 'policies resumed'),
      ),
  },
  {
    name: 'override',
    usage: 'override IFACE|off',
    summary: 'send every app with a choice through one egress',
    run: (p) =>
      withClient(p, async (c) => {
        const target = p.positionals[0];
        if (!target) throw new UsageError('override: give an interface, or off');
        const s = await c.call('policy.override', { egress: target === 'off' ? null : target });
        print(p, s, () => (s.override ? `everything goes through ${s.override}` : 'override off'));
      }),
  },
  {
    name: 'launch',
    usage: 'launch APP',
    summary: "start an app's desktop entry through Switchyard",
    run: (p) =>
      withClient(p, async (c) => {
        const name = p.positionals[0];
        if (!name) throw new UsageError('launch: which app? e.g. `switchyard launch firefox`');
        const id = await resolveApp(c, name);
        const r = await c.call('apps.launch', { id });
        // A launch that dies at once is no start: look again once it had time to fail.
        await new Promise((resolve) => setTimeout(resolve, LAUNCH_SETTLE_MS));
        const { pids } = await c.call('apps.get', { id });
        if (!pids.length)
          throw new Error(
            `${id} (pid ${r.pid}) exited within ${LAUNCH_SETTLE_MS / 1000} s; nothing of it runs now. Start it in a terminal to see why.`,
          );
        print(p, { ...r, pids }, () => `started ${id} (pid ${r.pid}); running: ${pids.join(' ')}`);
      }),
  },
  {
    name: 'run',
    usage: 'run --app APP -- CMD [ARGS…]',
    summary: "run a command inside an app's cgroup (as the calling user)",
    options: { app: { type: 'string' } },
    run: async (p) => (await import('./run.ts')).runCommand(p),
  },
  {
    name: 'helper',
    usage:
      'helper [--instance NAME] [--socket PATH] [--state-dir DIR] [--managed-policy FILE] [--socket-group GROUP] [--data-dir DIR]… [--watch-dir DIR]…',
    summary: 'run the privileged helper daemon in the foreground',
    options: {
      'state-dir': { type: 'string' },
      'managed-policy': { type: 'string' },
      'socket-group': { type: 'string' },
      'socket-mode': { type: 'string' },
      'data-dir': { type: 'string', multiple: true },
      'cgroup-parent': { type: 'string' },
      'watch-dir': { type: 'string', multiple: true },
    },
    notes: [
      '--watch-dir: whose filesystems the write watch covers, to trace a flagged file to the app that',
      'wrote it (default /home /root /tmp /var/tmp).',
    ],
    run: async (p) => (await import('./helper-command.ts')).helperCommand(p),
  },
  {
    name: 'reset',
    usage: 'reset [--instance NAME] [--state-dir DIR]',
    summary:
      "remove a stopped helper's kernel state: its rules, nft table, cgroups and tagger (kill switches stop holding)",
    options: { 'state-dir': { type: 'string' }, 'cgroup-parent': { type: 'string' } },
    run: async (p) => (await import('./helper-command.ts')).resetCommand(p),
  },
  {
    name: 'web',
    usage: 'web [--port N] [--open]',
    summary: 'serve the UI on 127.0.0.1 for a browser (web mode)',
    options: { port: { type: 'string' }, open: { type: 'boolean' } },
    run: async (p) => (await import('./web-command.ts')).webCommand(p),
  },
  ...tunnelCommands,
  ...dnsCommands,
];
