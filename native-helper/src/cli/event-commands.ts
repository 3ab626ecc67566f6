// The CLI's event commands: what a scanner's hook calls (flag), quarantines, the events in force,
// schedules and the audit trail.
import { readFileSync } from 'node:fs';
import type { ActiveEvent, AuditEntry, Weekday } from '../api/events-model.ts';
import { Severity, SourceName } from '../api/events-model.ts';
import { Destination } from '../api/rules-model.ts';
import type { ReactionsState } from '../api/events-schema.ts';
import { type Parsed, UsageError, str } from './args.ts';
import type { Command } from './commands.ts';
import { withClient } from './connect.ts';
import { color, print, table } from './format.ts';
import { checkAppId, parseDuration } from './rule-parse.ts';
import { resolveApp } from './app-names.ts';

function args(p: Parsed, most: number, usage: string): string[] {
  if (p.positionals.length > most)
    throw new UsageError(`unexpected ${JSON.stringify(p.positionals[most])}; usage: switchyard ${usage}`);
  return p.positionals;
}

/** The finding's subject: an app id, --exe, --file or --pid (exactly one), or ClamAV's environment. */
function findingSubject(p: Parsed): { app: string } | { exe: string } | { file: string } | { pid: number } {
  const given = [
    p.positionals[0] !== undefined ? { app: checkAppId(p.positionals[0], 'flag') } : null,
    str(p, 'exe') !== undefined ? { exe: str(p, 'exe')! } : null,
    str(p, 'file') !== undefined ? { file: str(p, 'file')! } : null,
    str(p, 'pid') !== undefined ? { pid: pidOf(str(p, 'pid')!) } : null,
  ].filter((x) => x !== null);
  if (given.length !== 1)
    throw new UsageError('flag: name exactly one of APP, --exe PATH, --file PATH or --pid PID');
  return given[0]!;
}

function pidOf(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1) throw new UsageError(`--pid ${JSON.stringify(text)} is not a process id`);
  return n;
}

/** `--clamav`: what clamd's VirusEvent hands its command, read from the environment (no shell quoting). */
function clamavFinding(): { file: string; reason: string } {
  const file = process.env.CLAM_VIRUSEVENT_FILENAME;
  const name = process.env.CLAM_VIRUSEVENT_VIRUSNAME;
  if (!file || !name)
    throw new UsageError(
      '--clamav reads CLAM_VIRUSEVENT_FILENAME and CLAM_VIRUSEVENT_VIRUSNAME, which clamd sets for its VirusEvent command; they are not set',
    );
  return { file, reason: `${name} found in ${file}` };
}

function eventLine(e: ActiveEvent, now: Date): string {
  const left = e.endsAt ? `, ${until(e.endsAt, now)}` : '';
  const about = e.app ?? e.subject ?? '';
  return `${e.id}  ${e.kind.padEnd(17)} ${about.padEnd(14)} ${e.reason}${left} · ${e.rules.length} rule${e.rules.length === 1 ? '' : 's'}${e.repeats ? ` · repeated ${e.repeats}×` : ''}`;
}

function until(iso: string, now: Date): string {
  const s = Math.max(0, Math.round((Date.parse(iso) - now.getTime()) / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min left`;
  if (s >= 60) return `${Math.round(s / 60)} min left`;
  return `${s} s left`;
}

function reactionsText(r: ReactionsState, now: Date): string {
  const out = [color.bold('Events in force')];
  out.push(...(r.active.length ? r.active.map((e) => `  ${eventLine(e, now)}`) : ['  none']));
  out.push('', color.bold('Reaction templates'));
  out.push(
    table(
      ['id', 'on', 'covers', 'action', ''],
      r.templates.map((t) => [
        t.id,
        t.on.kind === 'schedule' ? `schedule ${t.on.schedule}` : t.on.kind,
        t.covers.kind === 'event-app'
          ? "the event's app"
          : t.covers.kind === 'app'
            ? t.covers.app
            : `group ${t.covers.group}`,
        t.action.type === 'encrypt' ? `encrypt via ${t.action.tunnel ?? 'the first tunnel'}` : t.action.type,
        [t.locked ? 'managed' : t.builtIn ? 'built-in' : 'yours', t.enabled ? '' : 'disabled']
          .filter(Boolean)
          .join(', '),
      ]),
    ),
  );
  out.push('', color.bold(`Schedules (${r.timeZone})`));
  out.push(
    ...(r.schedules.length
      ? r.schedules.map(
          (s) => `  ${s.name}: ${s.days.join(',')} ${s.from}–${s.to}${s.open ? '  [open now]' : ''}`,
        )
      : ['  none; add one with `switchyard schedule set NAME --days mon-fri --from 09:00 --to 17:00`']),
  );
  return out.join('\n');
}

function auditText(entries: AuditEntry[]): string {
  if (!entries.length) return 'no audit entries match';
  return entries
    .map((e) => `${e.time.replace('T', ' ').slice(0, 19)}  ${e.action.padEnd(14)} ${e.message}  (by ${e.by})`)
    .join('\n');
}

const DAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** "mon-fri", "sat,sun", "mon,wed-fri" → the days. */
export function parseDays(text: string): Weekday[] {
  const out = new Set<Weekday>();
  for (const part of text.toLowerCase().split(',')) {
    const [a, b] = part.split('-');
    const from = DAYS.indexOf(a as Weekday);
    const to = b === undefined ? from : DAYS.indexOf(b as Weekday);
    if (from < 0 || to < 0 || to < from)
      throw new UsageError(`--days ${JSON.stringify(text)}: write days like mon-fri, sat,sun or mon,wed-fri`);
    for (let i = from; i <= to; i++) out.add(DAYS[i]!);
  }
  return DAYS.filter((d) => out.has(d));
}

/** An ISO time, or a duration meaning "that long ago" (1h, 2d). */
export function parseSince(text: string, now: Date): string {
  if (/^\d{4}-\d\d-\d\d/.test(text)) {
    const t = Date.parse(text);
    if (Number.isNaN(t)) throw new UsageError(`--since ${JSON.stringify(text)} is not a time`);
    return new Date(t).toISOString();
  }
  return new Date(now.getTime() - parseDuration(text, '--since') * 1000).toISOString();
}

export const eventCommands: Command[] = [
  {
    name: 'flag',
    usage:
      'flag APP|--exe PATH|--file PATH|--pid PID|--clamav --reason TEXT [--severity low|high] [--source NAME]',
    summary: "report a security finding: the app's rules change at once (what a scanner's hook calls)",
    example:
      'switchyard flag --file /home/me/Downloads/x.pdf --reason "Eicar-Test-Signature" --source clamav',
    notes: [
      'A file is mapped to the app that wrote it, runs it or has it open; an executable to its app.',
      "--clamav takes the file and the signature from clamd's VirusEvent environment, so clamd.conf needs",
      'only `VirusEvent /usr/bin/switchyard flag --clamav` (clamd must run as a member of the switchyard group).',
      'Default severity: high. Reports are rate-limited per user.',
    ],
    options: {
      exe: { type: 'string' },
      file: { type: 'string' },
      pid: { type: 'string' },
      clamav: { type: 'boolean' },
      reason: { type: 'string' },
      severity: { type: 'string' },
      source: { type: 'string' },
    },
    run: async (p) => {
      args(p, 1, 'flag APP|--exe PATH|--file PATH|--pid PID --reason TEXT');
      const clam = p.values.clamav ? clamavFinding() : null;
      const subject = clam ? { file: clam.file } : findingSubject(p);
      const reason = clam?.reason ?? str(p, 'reason');
      if (!reason) throw new UsageError('flag: say why with --reason TEXT (e.g. the signature name)');
      const severity = str(p, 'severity') ?? 'high';
      if (!Severity.safeParse(severity).success) throw new UsageError('--severity: low or high');
      const source = str(p, 'source') ?? (clam ? 'clamav' : 'manual');
      if (!SourceName.safeParse(source).success)
        throw new UsageError(`--source ${JSON.stringify(source)}: 1-40 letters, digits, space, dot or dash`);
      await withClient(p, async (c) => {
        const e = await c.call('findings.report', {
          ...subject,
          reason: reason.slice(0, 300),
          severity: severity as 'high',
          source,
        });
        print(p, e, () =>
          [
            `${e.app} flagged (${e.severity}) by ${e.source}: ${e.reason}${e.repeats ? ` (reported ${e.repeats + 1} times)` : ''}`,
            `${e.rules.length} rule${e.rules.length === 1 ? '' : 's'} in force; \`switchyard unflag ${e.app}\` clears it`,
          ].join('\n'),
        );
      });
    },
  },
  {
    name: 'unflag',
    usage: 'unflag APP',
    summary: "clear an app's flags and quarantine; their rules go at once",
    example: 'switchyard unflag firefox',
    run: async (p) => {
      const [app] = args(p, 1, 'unflag APP');
      if (!app) throw new UsageError('unflag: name the app, e.g. `switchyard unflag firefox`');
      await withClient(p, async (c) => {
        const r = await c.call('findings.clear', { app: await resolveApp(c, app) });
        print(p, r, () =>
          r.cleared
            ? `${app}: ${r.cleared} event${r.cleared === 1 ? '' : 's'} cleared`
            : `${app} was not flagged or quarantined`,
        );
      });
    },
  },
  {
    name: 'quarantine',
    usage: 'quarantine APP --for DURATION [--reason TEXT]',
    summary: "block an app's traffic for a while (per the quarantine template)",
    example: 'switchyard quarantine firefox --for 1h',
    notes: ['DURATION: 90s, 30m, 1h, 2h30m or 1d. A new quarantine replaces the one in force.'],
    options: { for: { type: 'string' }, reason: { type: 'string' } },
    run: async (p) => {
      const [app] = args(p, 1, 'quarantine APP --for DURATION');
      if (!app)
        throw new UsageError('quarantine: name the app, e.g. `switchyard quarantine firefox --for 1h`');
      const d = str(p, 'for');
      if (!d) throw new UsageError('quarantine: say how long with --for DURATION (e.g. --for 1h)');
      const seconds = parseDuration(d, '--for');
      const reason = str(p, 'reason');
      await withClient(p, async (c) => {
        const e = await c.call('quarantine.start', {
          app: await resolveApp(c, app),
          seconds,
          ...(reason ? { reason } : {}),
        });
        print(
          p,
          e,
          () => `${app} quarantined until ${e.endsAt}; \`switchyard unflag ${app}\` ends it sooner`,
        );
      });
    },
  },
  {
    name: 'app update-servers',
    usage: 'app update-servers APP [CIDR…]',
    summary: 'where an app gets its updates: a flagged app may still reach them (none: clear the list)',
    example: 'switchyard app update-servers firefox 198.51.100.0/24 2001:db8:5::/48',
    run: async (p) => {
      const [app, ...cidrs] = p.positionals;
      if (!app) throw new UsageError('app update-servers: name the app, then its update servers (CIDRs)');
      for (const c of cidrs)
        if (!Destination.safeParse(c).success)
          throw new UsageError(
            `${JSON.stringify(c)} is not a network; e.g. 198.51.100.0/24, 2001:db8::/32 or one address`,
          );
      await withClient(p, async (c) => {
        const r = await c.call('apps.setUpdateServers', {
          id: await resolveApp(c, app),
          destinations: cidrs,
        });
        print(p, r, () =>
          cidrs.length ? `${app} updates from ${cidrs.join(', ')}` : `${app}: no update servers`,
        );
      });
    },
  },
  {
    name: 'reactions',
    usage: 'reactions',
    summary: 'events in force (flags, quarantines, networks, schedules), reaction templates and schedules',
    example: 'switchyard reactions',
    run: async (p) => {
      args(p, 0, 'reactions');
      await withClient(p, async (c) => {
        const r = await c.call('reactions.get', {});
        print(p, r, () => reactionsText(r, new Date()));
      });
    },
  },
  {
    name: 'audit',
    usage: 'audit [--since TIME|DURATION] [--app APP] [--limit N]',
    summary: 'the audit trail: every event, the rules it made or removed, who caused it, expiries',
    example: 'switchyard audit --since 1d --app firefox',
    notes: ['--since takes an ISO time (2026-11-26T09:00:00Z) or a duration back from now (90m, 1d).'],
    options: { since: { type: 'string' }, app: { type: 'string' }, limit: { type: 'string' } },
    run: async (p) => {
      args(p, 0, 'audit');
      const since = str(p, 'since');
      const app = str(p, 'app');
      const limitText = str(p, 'limit') ?? '1000';
      const limit = Number(limitText);
      if (!/^\d+$/.test(limitText) || limit < 1 || limit > 10_000)
        throw new UsageError('--limit takes 1 to 10000');
      await withClient(p, async (c) => {
        const entries = await c.call('audit.list', {
          ...(since ? { since: parseSince(since, new Date()) } : {}),
          ...(app ? { app: checkAppId(app, '--app') } : {}),
          limit,
        });
        if (p.json) for (const e of entries) console.log(JSON.stringify(e));
        else console.log(auditText(entries));
      });
    },
  },
  {
    name: 'schedule set',
    usage: 'schedule set NAME --days DAYS --from HH:MM --to HH:MM',
    summary:
      'a weekly time window in your time zone; templates "on schedule NAME" make rules while it is open',
    example: 'switchyard schedule set work --days mon-fri --from 09:00 --to 17:00',
    notes: ['DAYS: mon-fri, sat,sun or mon,wed-fri. A --to before --from runs past midnight.'],
    options: { days: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
    run: async (p) => {
      const [name] = args(p, 1, 'schedule set NAME --days DAYS --from HH:MM --to HH:MM');
      if (!name)
        throw new UsageError('schedule set: name the schedule, e.g. `switchyard schedule set work …`');
      const need = (k: string, eg: string) => {
        const v = str(p, k);
        if (!v) throw new UsageError(`schedule set: missing --${k} (e.g. --${k} ${eg})`);
        return v;
      };
      const schedule = {
        name,
        days: parseDays(need('days', 'mon-fri')),
        from: need('from', '09:00'),
        to: need('to', '17:00'),
      };
      await withClient(p, async (c) => {
        const r = await c.call('schedules.set', schedule);
        print(p, r, () => `schedule ${name}: ${schedule.days.join(',')} ${schedule.from}–${schedule.to}`);
      });
    },
  },
  {
    name: 'schedule rm',
    usage: 'schedule rm NAME',
    summary: 'remove a schedule; the rules of its open window go',
    example: 'switchyard schedule rm work',
    run: async (p) => {
      const [name] = args(p, 1, 'schedule rm NAME');
      if (!name) throw new UsageError('schedule rm: name the schedule');
      await withClient(p, async (c) =>
        print(p, await c.call('schedules.remove', { name }), () => `schedule ${name} removed`),
      );
    },
  },
  {
    name: 'template set',
    usage: 'template set FILE|-',
    summary: 'add or replace a reaction template from JSON (same id replaces; a built-in id overrides it)',
    example: 'switchyard template set work-hours.json',
    notes: [
      'JSON: {"id","name","on":{"kind":"app.flagged|app.quarantined|network.unknown|network.untrusted|schedule",',
      '"schedule"?},"covers":{"kind":"event-app|app|group",…},"action":{"type":"block|encrypt|allow-only",…},',
      '"lifetime"?:{"kind":"event|for|until",…},"minSeverity"?,"enabled"?}; docs/events.md has examples.',
    ],
    run: async (p) => {
      const [file] = args(p, 1, 'template set FILE|-');
      if (!file) throw new UsageError('template set: give a JSON file (or - for stdin)');
      let t: unknown;
      try {
        t = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
      } catch (err) {
        throw new UsageError(`template set: cannot read ${file}: ${(err as Error).message}`);
      }
      await withClient(p, async (c) => {
        const v = await c.call('templates.set', t as never);
        print(p, v, () => `template ${v.id} set: ${v.name}`);
      });
    },
  },
  {
    name: 'template rm',
    usage: 'template rm ID',
    summary: 'remove one of your reaction templates (a built-in one comes back)',
    example: 'switchyard template rm work-hours',
    run: async (p) => {
      const [id] = args(p, 1, 'template rm ID');
      if (!id) throw new UsageError('template rm: give the template id (`switchyard reactions` lists them)');
      await withClient(p, async (c) =>
        print(p, await c.call('templates.remove', { id }), () => `template ${id} removed`),
      );
    },
  },
];
