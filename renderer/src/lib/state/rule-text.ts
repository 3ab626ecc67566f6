// Rules in words, for rows, the app detail and tests: what a rule matches, what it does, ports,
// expiry countdowns and counts. Pure.
import type { PortRange, RuleAction, RuleMatch, RuleSubject } from '#switchyard/api/rules-model.ts';

export function portsText(ports: readonly PortRange[]): string {
  return ports.map((p) => (p.from === p.to ? `${p.from}` : `${p.from}–${p.to}`)).join(', ');
}

/** "443, 8000-8080" → port ranges; empty means every port. */
export function parsePorts(text: string): { values: PortRange[] } | { error: string } {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (parts.length > 32) return { error: 'A rule takes at most 32 ports or ranges.' };
  const values: PortRange[] = [];
  for (const part of parts) {
    const m = /^(\d{1,5})(?:[-–:](\d{1,5}))?$/.exec(part);
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (!m || from < 1 || to > 65535 || from > 65535 || to < 1)
      return { error: `"${part}" is not a port (1–65535) or a range such as 8000-8080.` };
    if (from > to) return { error: `"${part}" runs backwards; write it as ${to}-${from}.` };
    values.push({ from, to });
  }
  return { values };
}

export function subjectText(subject: RuleSubject, nameOf: (id: string) => string): string {
  return subject.kind === 'app' ? nameOf(subject.app) : `Group ${subject.group}`;
}

/** What traffic of the subject the rule covers, e.g. "TCP port 443 to 10.0.0.0/8 on untrusted networks". */
export function matchText(m: RuleMatch): string {
  const parts = [
    m.protocol !== 'any' ? m.protocol.toUpperCase() : null,
    m.ports.length
      ? `${m.ports.length === 1 && m.ports[0]!.from === m.ports[0]!.to ? 'port' : 'ports'} ${portsText(m.ports)}`
      : null,
    m.destinations.length ? `to ${m.destinations.join(', ')}` : null,
    m.network !== 'any' ? `on ${m.network} networks` : null,
  ].filter(Boolean);
  return parts.length ? parts.join(' ') : 'all traffic';
}

export function actionText(a: RuleAction): string {
  if (a.type === 'encrypt') return `Encrypt via ${a.tunnel}${a.keyGroup ? ` (key group ${a.keyGroup})` : ''}`;
  return a.type === 'clear' ? 'Send in clear' : 'Block';
}

export function actionTone(a: RuleAction): 'ok' | 'neutral' | 'bad' {
  return a.type === 'encrypt' ? 'ok' : a.type === 'clear' ? 'neutral' : 'bad';
}

/** "14 min left", "in 2 h 5 min"-style countdown to an ISO time; "expiring" once it has passed. */
export function countdown(expiresAt: string, now: number): string {
  const ms = new Date(expiresAt).getTime() - now;
  if (!Number.isFinite(ms)) return '';
  if (ms <= 0) return 'expiring';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s left`;
  const min = Math.ceil(s / 60);
  if (min < 60) return `${min} min left`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ${min % 60 ? `${min % 60} min ` : ''}left`;
  const d = Math.floor(h / 24);
  return `${d} d ${h % 24 ? `${h % 24} h ` : ''}left`;
}

/** 1234 → "1,234"; 1_250_000 → "1.3M". */
export function countText(n: number): string {
  if (n < 10_000) return n.toLocaleString('en-US');
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}
