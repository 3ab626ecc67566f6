// Which helper events become desktop notifications, and in what words. Only events that change
// whether an app's traffic flows: its kill switch blocked it, or it failed over to another path.
import type { AppId, EventEnvelope } from '#switchyard/api/schema.ts';

export interface Notice {
  /** Same key = same news; repeats within the debounce window are dropped. */
  key: string;
  title: string;
  body: string;
  urgency: 'normal' | 'critical';
}

export type AppName = (id: AppId) => string;

export function noticeFor(env: EventEnvelope, appName: AppName): Notice | null {
  switch (env.event) {
    case 'egress.killed': {
      const d = env.data as { app: AppId; egresses: string[] };
      const name = appName(d.app);
      const list = d.egresses.length ? d.egresses.join(', ') : 'its chosen egress';
      return {
        key: `killed:${d.app}`,
        title: `${name} is blocked`,
        body: `${list} ${d.egresses.length > 1 ? 'are' : 'is'} down and the kill switch stops ${name} from using any other path.`,
        urgency: 'critical',
      };
    }
    case 'egress.failover': {
      const d = env.data as { app: AppId; from: string | null; to: string | null };
      const name = appName(d.app);
      const lost = d.from ? `${d.from} is down` : 'Its first choice is down';
      return {
        key: `failover:${d.app}:${d.to ?? 'default'}`,
        title: d.to ? `${name} switched to ${d.to}` : `${name} uses the system route`,
        body: d.to
          ? `${lost}; ${name} now goes through ${d.to}.`
          : `${lost} and none of its choices is up; ${name} uses the system's default route.`,
        urgency: 'normal',
      };
    }
    default:
      return null;
  }
}

/** Drops a notice whose key was shown less than windowMs ago. */
export class NoticeDebouncer {
  private readonly shown = new Map<string, number>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  admit(notice: Notice): boolean {
    const t = this.now();
    for (const [k, at] of this.shown) if (t - at >= this.windowMs) this.shown.delete(k);
    if (this.shown.has(notice.key)) return false;
    this.shown.set(notice.key, t);
    return true;
  }
}
