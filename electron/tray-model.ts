// What the tray shows, as a pure function of state. main.ts turns the model into a real Menu; the
// tests read it directly. Every clickable item carries the action it triggers.
import type { App, AppId, EgressChoice, Interface, PolicyMode, Status } from '#switchyard/api/schema.ts';
import type { HelperConnection } from '#switchyard/api/shell-schema.ts';
import { timeLeft } from './time-left.ts';

export type TrayIcon = 'ok' | 'killed' | 'down';

export type TrayAction =
  | { kind: 'open' }
  | { kind: 'quit' }
  | { kind: 'pause'; paused: boolean }
  | { kind: 'override'; egress: string | null }
  | { kind: 'mode'; mode: PolicyMode }
  | { kind: 'egress'; app: AppId; choice: EgressChoice }
  | { kind: 'pin'; app: AppId; pinned: boolean }
  | { kind: 'clear'; app: AppId }
  | { kind: 'quarantine'; app: AppId; seconds: number };

export type TrayItem =
  | { type: 'normal'; label: string; enabled: boolean; action?: TrayAction }
  | { type: 'checkbox' | 'radio'; label: string; enabled: boolean; checked: boolean; action: TrayAction }
  | { type: 'submenu'; label: string; enabled: boolean; items: TrayItem[] }
  | { type: 'separator' };

export interface TrayModel {
  icon: TrayIcon;
  tooltip: string;
  items: TrayItem[];
}

export interface TrayState {
  connection: HelperConnection;
  status: Status | null;
  apps: readonly App[];
  interfaces: readonly Interface[];
  pins: readonly AppId[];
  /** For the time left of quarantines; the clock when not given. */
  now?: number;
}

/** How many apps the "Pinned apps" chooser lists; the window has the full list. */
export const PIN_CHOICES_MAX = 30;

/** The tray's quarantine: long enough to look at the app, short enough to forget about. */
export const TRAY_QUARANTINE_SECONDS = 3600;

const sep: TrayItem = { type: 'separator' };

function egressInterfaces(interfaces: readonly Interface[]): Interface[] {
  return interfaces.filter((i) => i.kind !== 'loopback').sort((a, b) => a.name.localeCompare(b.name));
}

function ifaceLabel(i: Interface): string {
  return i.usable ? i.name : `${i.name} (down)`;
}

function sameChoice(a: EgressChoice, b: EgressChoice): boolean {
  if (a.mode !== b.mode) return false;
  if (a.mode !== 'ordered' || b.mode !== 'ordered') return true;
  return a.egresses.join(',') === b.egresses.join(',') && a.killSwitch === b.killSwitch;
}

function appEgressMenu(app: App, interfaces: Interface[]): TrayItem {
  // A quick switch keeps the app's kill switch setting; the window edits the full ordered list.
  const killSwitch = app.choice.mode === 'ordered' ? app.choice.killSwitch : false;
  const choices: { label: string; choice: EgressChoice }[] = [
    { label: 'System default', choice: { mode: 'default' } },
    ...interfaces.map((i) => ({
      label: `Only ${ifaceLabel(i)}`,
      choice: { mode: 'ordered' as const, egresses: [i.name], killSwitch },
    })),
    { label: 'Block', choice: { mode: 'block' } },
  ];
  const items: TrayItem[] = choices.map(({ label, choice }) => ({
    type: 'radio',
    label,
    enabled: !app.managed,
    checked: sameChoice(app.choice, choice),
    action: { kind: 'egress', app: app.id, choice },
  }));
  if (app.choice.mode === 'ordered' && !choices.some((c) => sameChoice(app.choice, c.choice))) {
    items.unshift({
      type: 'radio',
      label: `${app.choice.egresses.join(' → ')} (set in window)`,
      enabled: false,
      checked: true,
      action: { kind: 'open' },
    });
  }
  // A quarantine in force is cleared from the held apps above; starting one again would reset it.
  if (app.pids.length && !app.held.some((h) => h.kind === 'quarantined'))
    items.push(sep, {
      type: 'normal',
      label: 'Quarantine for 1 hour',
      enabled: true,
      action: { kind: 'quarantine', app: app.id, seconds: TRAY_QUARANTINE_SECONDS },
    });
  const where = app.egress.active
    ? ` — ${app.egress.active}`
    : app.egress.state === 'killed'
      ? ' — blocked (kill switch)'
      : '';
  return {
    type: 'submenu',
    label: `${app.name}${where}${app.managed ? ' (managed)' : ''}`,
    enabled: true,
    items,
  };
}

export function trayIcon(state: TrayState): TrayIcon {
  if (state.connection.state !== 'connected' || !state.status) return 'down';
  return state.status.killed.length > 0 ? 'killed' : 'ok';
}

export function buildTrayModel(state: TrayState): TrayModel {
  const icon = trayIcon(state);
  const open: TrayItem = {
    type: 'normal',
    label: 'Open Switchyard',
    enabled: true,
    action: { kind: 'open' },
  };
  const quit: TrayItem = { type: 'normal', label: 'Quit', enabled: true, action: { kind: 'quit' } };

  if (icon === 'down' || !state.status) {
    return {
      icon,
      tooltip: `Switchyard — ${state.connection.message}`,
      items: [
        open,
        sep,
        { type: 'normal', label: helperDownLabel(state.connection), enabled: false },
        sep,
        quit,
      ],
    };
  }

  const status = state.status;
  const byId = new Map(state.apps.map((a) => [a.id, a]));
  const killedNames = status.killed.map((id) => byId.get(id)?.name ?? id);
  const tooltip =
    icon === 'killed'
      ? `Switchyard — blocked by kill switch: ${killedNames.join(', ')}`
      : status.held.length
        ? `Switchyard — held: ${status.held.map((id) => byId.get(id)?.name ?? id).join(', ')}`
        : status.paused
          ? 'Switchyard — all policies paused'
          : status.override
            ? `Switchyard — everything through ${status.override}`
            : 'Switchyard — every app on its chosen path';

  const interfaces = egressInterfaces(state.interfaces);
  const pinnedApps = state.pins.map((id) => byId.get(id)).filter((a): a is App => !!a);

  const items: TrayItem[] = [open, sep];
  if (killedNames.length)
    items.push(
      { type: 'normal', label: `Blocked by kill switch: ${killedNames.join(', ')}`, enabled: false },
      sep,
    );
  if (status.held.length)
    items.push(...status.held.map((id) => heldAppMenu(id, byId.get(id), state.now ?? Date.now())), sep);
  items.push({
    type: 'checkbox',
    label: 'Pause all policies',
    enabled: true,
    checked: status.paused,
    action: { kind: 'pause', paused: !status.paused },
  });
  if (pinnedApps.length) {
    items.push(sep, ...pinnedApps.map((a) => appEgressMenu(a, interfaces)));
  }
  items.push(sep, {
    type: 'submenu',
    label: status.override ? `Send everything through… (${status.override})` : 'Send everything through…',
    enabled: !status.paused,
    items: [
      {
        type: 'radio',
        label: 'Off',
        enabled: true,
        checked: status.override === null,
        action: { kind: 'override', egress: null },
      },
      ...interfaces.map((i): TrayItem => ({
        type: 'radio',
        label: ifaceLabel(i),
        enabled: true,
        checked: status.override === i.name,
        action: { kind: 'override', egress: i.name },
      })),
    ],
  });
  items.push(modeMenu(status, interfaces));
  items.push(
    { type: 'submenu', label: 'Pinned apps', enabled: state.apps.length > 0, items: pinChoices(state) },
    sep,
    quit,
  );
  return { icon, tooltip, items };
}

/** Include or exclude mode: "everything but the apps with a choice" through one egress (kill switch on). */
function modeMenu(status: Status, interfaces: readonly Interface[]): TrayItem {
  const mode = status.mode ?? { kind: 'include' as const };
  return {
    type: 'submenu',
    label: mode.kind === 'exclude' ? `Mode: everything else via ${mode.via}` : 'Mode: only chosen apps',
    enabled: true,
    items: [
      {
        type: 'radio',
        label: 'Only chosen apps (include)',
        enabled: true,
        checked: mode.kind === 'include',
        action: { kind: 'mode', mode: { kind: 'include' } },
      },
      ...interfaces.map((i): TrayItem => ({
        type: 'radio',
        label: `Everything else via ${ifaceLabel(i)} (exclude)`,
        enabled: true,
        checked: mode.kind === 'exclude' && mode.via === i.name,
        action: {
          kind: 'mode',
          mode: {
            kind: 'exclude',
            via: i.name,
            killSwitch: mode.kind === 'exclude' ? mode.killSwitch : true,
          },
        },
      })),
    ],
  };
}

/** "Firefox — quarantined, 52 min left" with what holds it and the way to clear it. */
function heldAppMenu(id: AppId, app: App | undefined, now: number): TrayItem {
  const held = app?.held ?? [];
  const flagged = held.filter((h) => h.kind === 'flagged');
  const quarantine = held.find((h) => h.kind === 'quarantined');
  const words = [
    ...(flagged.length ? ['flagged'] : []),
    ...(quarantine ? [`quarantined${quarantine.until ? `, ${timeLeft(quarantine.until, now)}` : ''}`] : []),
  ];
  const details: TrayItem[] = held.map((h) => ({
    type: 'normal',
    label: h.kind === 'flagged' ? `Flagged by ${h.source}: ${h.reason}` : `Quarantined: ${h.reason}`,
    enabled: false,
  }));
  // findings.clear ends both: the label says what goes.
  const clear =
    flagged.length && quarantine
      ? 'Clear flag and quarantine'
      : quarantine
        ? 'Clear quarantine'
        : 'Clear flag';
  return {
    type: 'submenu',
    label: `${app?.name ?? id} — ${words.length ? words.join(', ') : 'held'}`,
    enabled: true,
    items: [
      ...details,
      ...(details.length ? [sep] : []),
      { type: 'normal', label: clear, enabled: true, action: { kind: 'clear', app: id } },
    ],
  };
}

function pinChoices(state: TrayState): TrayItem[] {
  const pinned = new Set(state.pins);
  // Pinned first, then running apps, then the rest, each by name.
  const rank = (a: App) => (pinned.has(a.id) ? 0 : a.pids.length ? 1 : 2);
  return [...state.apps]
    .sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name))
    .slice(0, PIN_CHOICES_MAX)
    .map((a) => ({
      type: 'checkbox',
      label: a.name,
      enabled: true,
      checked: pinned.has(a.id),
      action: { kind: 'pin', app: a.id, pinned: !pinned.has(a.id) },
    }));
}

function helperDownLabel(c: HelperConnection): string {
  switch (c.state) {
    case 'absent':
      return 'Helper not running';
    case 'refused':
      return 'Not allowed to use the helper';
    case 'incompatible':
      return 'Helper version does not match';
    default:
      return 'Connecting to the helper…';
  }
}
