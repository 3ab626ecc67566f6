import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../api/schema.ts';
import { defaultExportName, formatEvents } from './event-export.ts';

const events: EventEnvelope[] = [
  {
    event: 'egress.killed',
    seq: 1,
    time: '2026-01-01T00:00:00.000Z',
    data: { app: 'firefox', egresses: ['wlan0'] },
  },
  {
    event: 'app.changed',
    seq: 2,
    time: '2026-01-01T00:00:01.000Z',
    data: { app: null, id: 'zoom', removed: true },
  },
  {
    event: 'helper.problem',
    seq: 3,
    time: 't',
    data: { message: '=HYPERLINK("x"), "quoted"\nline', severity: 'error' },
  },
];

describe('formatEvents', () => {
  it('writes JSON as the envelopes', () => {
    expect(JSON.parse(formatEvents(events, 'json'))).toEqual(events);
  });

  it('writes CSV with a header, the app column, RFC 4180 quoting and CRLF rows', () => {
    const rows = formatEvents(events, 'csv').split('\r\n');
    expect(rows[0]).toBe('seq,time,event,app,data');
    expect(rows[1]).toBe(
      '1,2026-01-01T00:00:00.000Z,egress.killed,firefox,"{""app"":""firefox"",""egresses"":[""wlan0""]}"',
    );
    expect(rows[2]?.split(',').slice(0, 4)).toEqual(['2', '2026-01-01T00:00:01.000Z', 'app.changed', 'zoom']);
    expect(rows.at(-1)).toBe('');
    expect(rows).toHaveLength(5);
  });

  it('keeps a cell that starts like a formula from running in a spreadsheet', () => {
    const csv = formatEvents(
      [
        {
          event: 'adoption',
          seq: 1,
          time: 't',
          data: { app: '=cmd', pid: 1, exe: '/x', latencyUs: 1, via: 'exec' },
        },
      ],
      'csv',
    );
    expect(csv).toContain(",'=cmd,");
    expect(csv).not.toContain(',=cmd,');
  });

  it('names export files by time and format', () => {
    expect(defaultExportName('csv', new Date('2026-03-04T05:06:07.890Z'))).toBe(
      'switchyard-events-2026-03-04T05-06-07-890Z.csv',
    );
  });
});
