// The event log as a file: JSON (the envelopes as they are) or CSV (one row per event).
import type { EventEnvelope } from '../api/schema.ts';

export function formatEvents(events: readonly EventEnvelope[], format: 'json' | 'csv'): string {
  if (format === 'json') return `${JSON.stringify(events, null, 2)}\n`;
  const rows = [['seq', 'time', 'event', 'app', 'data']];
  for (const e of events) {
    const data = (e.data ?? {}) as { app?: unknown; id?: unknown };
    const app = typeof data.app === 'string' ? data.app : typeof data.id === 'string' ? data.id : '';
    rows.push([String(e.seq), e.time, e.event, app, JSON.stringify(e.data)]);
  }
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** RFC 4180 quoting, and a leading quote mark on cells a spreadsheet would run as a formula. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function defaultExportName(format: 'json' | 'csv', now = new Date()): string {
  return `switchyard-events-${now.toISOString().replace(/[:.]/g, '-')}.${format}`;
}
