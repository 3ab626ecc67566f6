// Reports from local tools, per caller: a burst, then a steady rate, beyond it RATE_LIMITED. Refusals
// are audited in summary, at most once per caller per interval, so a flood cannot fill the audit log.
import type { AuditNote } from '../api/events-model.ts';
import { ApiError } from '../api/schema.ts';

export interface Caller {
  uid: number;
  /** "root (uid 0)", "the tray", "the helper". */
  label: string;
}

const REPORT_BURST = 20;
const REPORTS_PER_SECOND = 5;
const REFUSAL_AUDIT_MS = 10_000;

export class ReportLimiter {
  private readonly buckets = new Map<number, { tokens: number; at: number }>();
  private readonly refusals = new Map<number, { count: number; lastAudit: number; why: string }>();

  constructor(
    private readonly now: () => Date,
    private readonly audit: (note: AuditNote) => void,
  ) {}

  /** Takes a report's token first, so a flood of garbage is limited as much as good reports. */
  admit(caller: Caller): void {
    const now = this.now().getTime();
    const b = this.buckets.get(caller.uid) ?? { tokens: REPORT_BURST, at: now };
    b.tokens = Math.min(REPORT_BURST, b.tokens + ((now - b.at) / 1000) * REPORTS_PER_SECOND);
    b.at = now;
    this.buckets.set(caller.uid, b);
    if (b.tokens < 1) {
      this.refused(caller, 'too many reports');
      throw new ApiError(
        'RATE_LIMITED',
        `too many reports from ${caller.label}: at most ${REPORTS_PER_SECOND} a second (bursts of ${REPORT_BURST}); try again shortly`,
      );
    }
    b.tokens -= 1;
  }

  /** Audits a refused report, at most once per caller per interval (with how many were refused). */
  refused(caller: Caller, why: string): void {
    const now = this.now().getTime();
    const r = this.refusals.get(caller.uid) ?? { count: 0, lastAudit: -Infinity, why };
    r.count += 1;
    r.why = why;
    this.refusals.set(caller.uid, r);
    if (now - r.lastAudit < REFUSAL_AUDIT_MS) return;
    this.audit({
      action: 'report.refused',
      by: caller.label,
      message:
        r.count === 1
          ? `report refused: ${why}`
          : `${r.count} reports refused since the last note; the latest: ${why}`,
    });
    r.count = 0;
    r.lastAudit = now;
  }
}
