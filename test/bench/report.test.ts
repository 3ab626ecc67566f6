import { describe, expect, it } from 'vitest';
import type { BenchRow } from './harness.ts';
import {
  cpuModelOf,
  formatTarget,
  memTotalOf,
  mergeResultsMarkdown,
  renderConsoleTable,
  renderResultsMarkdown,
  targetMet,
} from './report.ts';

const rows: BenchRow[] = [
  {
    group: 'anchors',
    name: 'veth, 1 stream',
    value: 12.345,
    unit: 'Gbit/s',
    status: 'ok',
    note: 'median of 3×5 s',
  },
  {
    group: 'anchors',
    name: 'openvpn, 1 stream',
    value: 0.4123,
    unit: 'Gbit/s',
    ratio: { against: 'veth, 1 stream', value: 0.0334 },
    status: 'ok',
  },
  {
    group: 'tunnel',
    name: 'tunnel',
    value: NaN,
    unit: '',
    status: 'failed',
    note: 'broke | badly\nline two',
  },
  { group: 'apply', name: 'apply', value: NaN, unit: '', status: 'not available', note: 'not written yet' },
];

const machine = {
  cpu: 'AMD EPYC',
  cores: 2,
  memory: '23.5 GiB',
  kernel: '6.18.0',
  node: 'v20.20.2',
  tools: { 'wireguard-go': 'v0.0.20220316', openvpn: '2.6.14' },
};

describe('renderResultsMarkdown', () => {
  const md = renderResultsMarkdown({
    date: new Date('2026-11-21T10:00:00Z'),
    machine,
    quick: false,
    only: [],
    plan: { runs: 3, seconds: 5 },
    rows,
  });
  it('states date, mode and the machine', () => {
    expect(md).toContain('2026-11-21 10:00 UTC');
    expect(md).toContain('median of 3 × 5 s');
    expect(md).toContain('| CPU | AMD EPYC |');
    expect(md).toContain('| openvpn | 2.6.14 |');
  });
  it('has one table per group with values, ratios and statuses', () => {
    expect(md.match(/^## (anchors|tunnel|apply)$/gm)).toEqual(['## anchors', '## tunnel', '## apply']);
    expect(md).toContain('| veth, 1 stream | 12.3 | Gbit/s |  |  | median of 3×5 s |');
    expect(md).toContain('| openvpn, 1 stream | 0.412 | Gbit/s | 0.033× veth, 1 stream |');
    expect(md).toContain('| apply | not available |');
  });
  it('keeps a failure note inside its table cell', () => {
    expect(md).toContain('| tunnel | FAILED |  |  |  | broke \\| badly line two |');
  });
  it('says how busy the machine was before the run, when measured', () => {
    const busy = renderResultsMarkdown({
      date: new Date(),
      machine,
      quick: false,
      only: [],
      plan: { runs: 3, seconds: 5 },
      rows,
      backgroundCores: 1.5,
    });
    expect(busy).toContain('| busy before the run | 1.50 of 2 cores');
    expect(md).not.toContain('busy before the run');
  });
  it('marks a quick or partial run as such', () => {
    const quick = renderResultsMarkdown({
      date: new Date(),
      machine,
      quick: true,
      only: ['tunnel'],
      plan: { runs: 1, seconds: 3 },
      rows,
    });
    expect(quick).toMatch(/quick run .* indicative only; only: tunnel/);
  });
});

describe('mergeResultsMarkdown', () => {
  const full = renderResultsMarkdown({
    date: new Date('2026-11-21T10:00:00Z'),
    machine,
    quick: false,
    only: [],
    plan: { runs: 3, seconds: 5 },
    rows,
  });
  const rulesRows: BenchRow[] = [
    { group: 'rules', name: 'connect, median', value: 15.5, unit: 'µs', status: 'ok' },
    { group: 'apply', name: 'apply', value: 348, unit: 'ms', status: 'ok' },
  ];
  const partial = (date: string, only: string[], r: BenchRow[], m = machine) => ({
    date: new Date(date),
    machine: m,
    quick: false,
    only,
    plan: { runs: 3, seconds: 5 },
    rows: r,
    backgroundCores: 0.25,
  });

  it('writes the whole document for a full run or when there is none to merge into', () => {
    const doc = partial('2026-11-22T09:00:00Z', [], rulesRows);
    expect(mergeResultsMarkdown(full, doc)).toBe(renderResultsMarkdown(doc));
    const only = partial('2026-11-22T09:00:00Z', ['rules'], rulesRows);
    expect(mergeResultsMarkdown(null, only)).toBe(renderResultsMarkdown(only));
    expect(mergeResultsMarkdown('something else', only)).toBe(renderResultsMarkdown(only));
  });

  it('replaces the sections a partial run measured, appends new ones, keeps the rest, and says so', () => {
    const md = mergeResultsMarkdown(full, partial('2026-11-22T09:00:00Z', ['rules', 'apply'], rulesRows));
    expect(md.match(/^## .*$/gm)).toEqual(['## Machine', '## anchors', '## tunnel', '## apply', '## rules']);
    expect(md).toContain('| veth, 1 stream | 12.3 | Gbit/s |'); // kept
    expect(md).toContain('| apply | 348 | ms |'); // replaced
    expect(md).not.toContain('| apply | not available |');
    expect(md).toContain('| connect, median | 15.5 | µs |'); // appended
    expect(md).toContain('Written by `npm run bench` on 2026-11-21 10:00 UTC');
    expect(md).toContain('- rules: 2026-11-22 09:00 UTC, full run, 0.25 of 2 cores busy before it\n');
    expect(md.indexOf('Sections replaced since')).toBeGreaterThan(md.indexOf('Written by'));
    expect(md.indexOf('Sections replaced since')).toBeLessThan(md.indexOf('Ratios compare'));
    expect(md).not.toMatch(/\n\n\n/);
    expect(md.endsWith('|\n')).toBe(true);
  });

  it('a later partial run replaces its own line and section and keeps the others', () => {
    const first = mergeResultsMarkdown(full, partial('2026-11-22T09:00:00Z', ['rules', 'apply'], rulesRows));
    const elsewhere = { ...machine, kernel: '6.19.0' };
    const again = mergeResultsMarkdown(
      first,
      partial('2026-11-23T08:00:00Z', ['rules'], [{ ...rulesRows[0]!, value: 16.5 }], elsewhere),
    );
    expect(again).toContain('- apply: 2026-11-22 09:00 UTC');
    expect(again).toContain(
      '- rules: 2026-11-23 08:00 UTC, full run, 0.25 of 2 cores busy before it, on AMD EPYC, kernel 6.19.0',
    );
    expect(again).not.toContain('- rules: 2026-11-22');
    expect(again).toContain('| connect, median | 16.5 | µs |');
    expect(again).not.toContain('| connect, median | 15.5 |');
    expect(again.match(/^## rules$/gm)).toHaveLength(1);
    expect(again.match(/^Sections replaced since/gm)).toHaveLength(1);
  });
});

describe('renderConsoleTable', () => {
  it('aligns every row under the header', () => {
    const lines = renderConsoleTable(rows).split('\n');
    const valueEnd = lines[0]!.indexOf('value') + 'value'.length;
    expect(lines).toHaveLength(rows.length + 2);
    expect(lines[2]!.indexOf('12.3') + 4).toBe(lines[3]!.indexOf('0.412') + 5);
    expect(lines[2]!.indexOf('12.3') + 4).toBeGreaterThanOrEqual(valueEnd);
  });
});

describe('targets', () => {
  const row = (over: Partial<BenchRow>): BenchRow => ({
    group: 'tunnel',
    name: 'x',
    value: 1,
    unit: 'Gbit/s',
    status: 'ok',
    ...over,
  });
  it('holds the ratio to the target when the row has one, else the value', () => {
    const ratio = { against: 'wireguard-go, 1 stream', value: 4.4 };
    expect(targetMet(row({ ratio, target: { min: 8, label: '≥ 8×' } }))).toBe(false);
    expect(targetMet(row({ ratio, target: { min: 4, label: '≥ 4×' } }))).toBe(true);
    expect(targetMet(row({ value: 60, unit: 'MB', target: { max: 80, label: '< 80 MB' } }))).toBe(true);
    expect(targetMet(row({ value: 90, unit: 'MB', target: { max: 80, label: '< 80 MB' } }))).toBe(false);
    expect(targetMet(row({ value: 1.3, target: { max: 1.3, min: 1, label: '1–1.3' } }))).toBe(true);
  });
  it('says not measured for a failed row and nothing for a row without a target', () => {
    const failed = row({ status: 'failed', value: NaN, target: { max: 2, label: '≤ 2×' } });
    expect(targetMet(failed)).toBeUndefined();
    expect(formatTarget(failed)).toBe('≤ 2×: not measured');
    expect(formatTarget(row({}))).toBe('');
  });
  it('prints the target and met / NOT met next to the ratio in both tables', () => {
    const rowsWithTargets = [
      row({ name: 'fast', ratio: { against: 'wg', value: 9 }, target: { min: 8, label: '≥ 8× wg' } }),
      row({ name: 'slow', ratio: { against: 'wg', value: 4.4 }, target: { min: 8, label: '≥ 8× wg' } }),
    ];
    const md = renderResultsMarkdown({
      date: new Date('2026-11-21T10:00:00Z'),
      machine,
      quick: false,
      only: [],
      plan: { runs: 3, seconds: 5 },
      rows: rowsWithTargets,
    });
    expect(md).toContain('| name | value | unit | ratio | target | note |');
    expect(md).toContain('| fast | 1.00 | Gbit/s | 9.00× wg | ≥ 8× wg: met |  |');
    expect(md).toContain('| slow | 1.00 | Gbit/s | 4.40× wg | ≥ 8× wg: NOT met |  |');
    const table = renderConsoleTable(rowsWithTargets);
    expect(table).toMatch(/^tunnel +fast +1\.00 +Gbit\/s +9\.00× wg +≥ 8× wg: met$/m);
    expect(table).toMatch(/^tunnel +slow +1\.00 +Gbit\/s +4\.40× wg +≥ 8× wg: NOT met$/m);
  });
});

describe('machine description parsers', () => {
  it('finds the CPU model on x86 and falls back when there is none', () => {
    expect(cpuModelOf('processor\t: 0\nmodel name\t: AMD EPYC 7763 64-Core Processor\n')).toBe(
      'AMD EPYC 7763 64-Core Processor',
    );
    expect(cpuModelOf('processor\t: 0\n')).toBe('unknown CPU');
  });
  it('reports MemTotal in GiB', () => {
    expect(memTotalOf('MemTotal:       24576000 kB\nMemFree: 1 kB\n')).toBe('23.4 GiB');
  });
});
