// What time and networks do to the events in force: schedule windows open and close, quarantines run
// out, uplinks move onto unknown or untrusted networks and off them. Pure, on the policy document.
import type { AuditNote } from '../api/events-model.ts';
import type { Network } from '../api/rules-model.ts';
import { type LedgerContext, endEvent, newEvent, startEvent } from './event-ledger.ts';
import type { PolicyDocument } from './model.ts';
import { openWindow } from './schedule.ts';

/** Where each uplink is (null while its network is being identified). */
export interface Attachment {
  uplink: string;
  network: Network | null;
}

/**
 * Ends events whose time is up and opens and closes schedule windows (evaluated in the time zone tz)
 * as of ctx.now.
 */
export function timeChanges(
  start: PolicyDocument,
  tz: string,
  ctx: LedgerContext,
  audits: AuditNote[],
): PolicyDocument {
  let doc = start;
  const now = ctx.now;
  for (const e of doc.events)
    if (e.endsAt && Date.parse(e.endsAt) <= now.getTime())
      doc = endEvent(
        doc,
        e,
        e.kind === 'schedule' ? 'its window closed' : 'its time was up',
        'the helper',
        audits,
      );
  for (const s of doc.schedules) {
    const win = openWindow(s, now, tz);
    const open = doc.events.find((e) => e.kind === 'schedule' && e.subject === s.name);
    if (open && (!win || open.endsAt !== win.end.toISOString()))
      doc = endEvent(doc, open, win ? 'its schedule changed' : 'its window closed', 'the helper', audits);
    if (win && (!open || open.endsAt !== win.end.toISOString())) {
      const e = newEvent(
        {
          kind: 'schedule',
          app: null,
          source: 'schedule',
          reason: `schedule ${s.name}: ${s.days.join(', ')} ${s.from}–${s.to} (${tz})`,
          severity: 'low',
          by: 'the helper',
          endsAt: win.end.toISOString(),
          subject: s.name,
        },
        ctx.now,
      );
      audits.push({
        action: 'event.started',
        event: e.id,
        kind: e.kind,
        by: 'the helper',
        message: `${e.reason}: window open until ${e.endsAt}`,
      });
      doc = startEvent(doc, e, ctx, audits);
    }
  }
  // Schedules that were removed end their events.
  for (const e of doc.events)
    if (e.kind === 'schedule' && !doc.schedules.some((s) => s.name === e.subject))
      doc = endEvent(doc, e, 'its schedule was removed', 'the helper', audits);
  return doc;
}

/** One network event per uplink on an unknown network, and one per uplink on an untrusted one. */
export function networkChanges(
  start: PolicyDocument,
  attachments: readonly Attachment[],
  ctx: LedgerContext,
  audits: AuditNote[],
): PolicyDocument {
  let doc = start;
  const wanted = new Map<
    string,
    { kind: 'network.unknown' | 'network.untrusted'; uplink: string; label: string }
  >();
  for (const a of attachments) {
    const label = a.network ? `network "${a.network.name}"` : 'a network not identified yet';
    if (!a.network || a.network.trust === null)
      wanted.set(`network.unknown|${a.uplink}`, { kind: 'network.unknown', uplink: a.uplink, label });
    if (!a.network || a.network.effectiveTrust === 'untrusted')
      wanted.set(`network.untrusted|${a.uplink}`, { kind: 'network.untrusted', uplink: a.uplink, label });
  }
  for (const e of doc.events) {
    if (e.kind !== 'network.unknown' && e.kind !== 'network.untrusted') continue;
    if (wanted.delete(`${e.kind}|${e.subject}`)) continue;
    doc = endEvent(doc, e, `${e.subject} left that network, or it was marked`, 'the helper', audits);
  }
  for (const w of wanted.values()) {
    const e = newEvent(
      {
        kind: w.kind,
        app: null,
        source: 'network',
        reason: `${w.uplink} is on ${w.label}, ${w.kind === 'network.unknown' ? 'which nobody marked' : 'which is untrusted'}`,
        severity: 'low',
        by: 'the helper',
        endsAt: null,
        subject: w.uplink,
      },
      ctx.now,
    );
    audits.push({
      action: 'event.started',
      event: e.id,
      kind: e.kind,
      by: 'the helper',
      message: e.reason,
    });
    doc = startEvent(doc, e, ctx, audits);
  }
  return doc;
}
