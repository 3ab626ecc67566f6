// The app and status views the API shows, built from what each part of the helper owns. Pure: the
// helper passes its parts in (helper.ts), so a view is the same whoever asks.
import type { App, AppId, EgressChoice, Status } from '../api/schema.ts';
import { type ActiveEvent, heldEntry } from '../api/events-model.ts';
import type { Evaluation } from '../policy/evaluate.ts';
import { isHeld } from '../policy/kill-switch.ts';
import type { PolicyApp } from '../policy/model.ts';

/** Where an app view's live parts come from. */
export interface AppViewSources {
  /** The managed policy's pin, which wins over the user's choice. */
  managedChoice: (id: AppId) => EgressChoice | null;
  evaluation: (id: AppId) => Evaluation;
  catalogIcon: (id: AppId) => string | null | undefined;
  pids: (id: AppId) => number[];
  counters: (id: AppId) => App['counters'];
}

/** The app as the API shows it; `held`: the events (flagged, quarantined) holding it now. */
export function appView(a: PolicyApp, s: AppViewSources, held: readonly ActiveEvent[] = []): App {
  const pinned = s.managedChoice(a.id);
  const ev = s.evaluation(a.id);
  return {
    id: a.id,
    name: a.name,
    icon: a.icon ?? s.catalogIcon(a.id) ?? null,
    source: a.source,
    matchers: a.matchers,
    tag: a.tag,
    choice: pinned ?? a.choice,
    managed: pinned !== null,
    pids: s.pids(a.id),
    egress: { state: ev.state, active: ev.active },
    counters: s.counters(a.id),
    ...(a.updateServers?.length ? { updateServers: a.updateServers } : {}),
    ...(a.lanAccess ? { lanAccess: true } : {}),
    held: held.map(heldEntry),
  };
}

/** The status: the helper's own facts, plus what the app views add up to. */
export function statusView(
  apps: readonly App[],
  own: Omit<Status, 'apps' | 'killed' | 'held' | 'health'>,
): Status {
  return {
    ...own,
    apps: {
      total: apps.length,
      managed: apps.filter((a) => a.choice.mode !== 'default').length,
      running: apps.filter((a) => a.pids.length > 0).length,
    },
    killed: apps.filter((a) => isHeld(a.egress)).map((a) => a.id),
    held: apps.filter((a) => a.held.length).map((a) => a.id),
    health: own.problems.length ? 'degraded' : 'ok',
  };
}
