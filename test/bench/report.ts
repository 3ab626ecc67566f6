// Turning rows into the console table and test/bench/RESULTS.md, and describing the machine.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import type { BenchRow } from './harness.ts';

export interface MachineDescription {
  cpu: string;
  cores: number;
  memory: string;
  kernel: string;
  node: string;
  tools: Record<string, string>;
}

/** First "model name" of /proc/cpuinfo (x86) or a fallback for CPUs that do not print one. */
export function cpuModelOf(cpuinfo: string): string {
  const line = cpuinfo.split('\n').find((l) => /^(model name|Model|cpu model)\s*:/.test(l));
  return line?.split(':').slice(1).join(':').trim() || 'unknown CPU';
}

export function memTotalOf(meminfo: string): string {
  const kib = Number(meminfo.match(/^MemTotal:\s+(\d+) kB/m)?.[1]);
  return Number.isFinite(kib) ? `${(kib / 1024 / 1024).toFixed(1)} GiB` : 'unknown';
}

async function versionOf(argv: string[], pattern: RegExp): Promise<string> {
  const res = await run(argv, { allowFailure: true, timeoutMs: 5_000 }).catch(() => undefined);
  if (!res) return 'not installed';
  const text = `${res.stdout}\n${res.stderr}`;
  return text.match(pattern)?.[1] ?? (text.trim().split('\n')[0] || 'unknown');
}

export async function describeMachine(): Promise<MachineDescription> {
  return {
    cpu: cpuModelOf(await readFile('/proc/cpuinfo', 'utf8')),
    cores: os.cpus().length,
    memory: memTotalOf(await readFile('/proc/meminfo', 'utf8')),
    kernel: os.release(),
    node: process.version,
    tools: {
      'wireguard-go': await versionOf(['wireguard-go', '--version'], /wireguard-go (v\S+)/),
      openvpn: await versionOf(['openvpn', '--version'], /^OpenVPN (\S+)/m),
      iperf3: await versionOf(['iperf3', '--version'], /^iperf (\S+)/m),
      openssl: await versionOf(['openssl', 'version'], /^OpenSSL (\S+)/m),
    },
  };
}

export function formatValue(row: BenchRow): string {
  if (row.status === 'failed') return 'FAILED';
  if (row.status === 'not available') return 'not available';
  const v = row.value;
  if (!Number.isFinite(v)) return '—';
  const abs = Math.abs(v);
  if (abs >= 100) return v.toFixed(0);
  if (abs >= 10) return v.toFixed(1);
  if (abs >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

export function formatRatio(ratio: BenchRow['ratio']): string {
  if (!ratio) return '';
  const v = ratio.value;
  const shown = Math.abs(v) >= 10 ? v.toFixed(1) : Math.abs(v) >= 0.1 ? v.toFixed(2) : v.toPrecision(2);
  return `${shown}× ${ratio.against}`;
}

/** Whether a row meets its target; undefined when it has none or was not measured. */
export function targetMet(row: BenchRow): boolean | undefined {
  if (!row.target || (row.status ?? 'ok') !== 'ok') return undefined;
  const v = row.ratio ? row.ratio.value : row.value;
  if (!Number.isFinite(v)) return undefined;
  const { max, min } = row.target;
  return (max === undefined || v <= max) && (min === undefined || v >= min);
}

export function formatTarget(row: BenchRow): string {
  if (!row.target) return '';
  const met = targetMet(row);
  return `${row.target.label}: ${met === undefined ? 'not measured' : met ? 'met' : 'NOT met'}`;
}

const HEADER = ['group', 'name', 'value', 'unit', 'ratio', 'target', 'note'] as const;
const NOTE = HEADER.length - 1;

function cells(row: BenchRow): string[] {
  // Error messages may span lines; a row must stay one line in both tables.
  const note = (row.note ?? '').replace(/\s*\r?\n\s*/g, ' ');
  return [row.group, row.name, formatValue(row), row.unit, formatRatio(row.ratio), formatTarget(row), note];
}

/** Plain-text table with aligned columns for the terminal. */
export function renderConsoleTable(rows: readonly BenchRow[]): string {
  const table = [[...HEADER], ...rows.map(cells)];
  const widths = HEADER.map((_, c) => Math.max(...table.map((r) => (c === NOTE ? 0 : r[c]!.length))));
  const line = (r: string[]) =>
    r
      .map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : c === NOTE ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [
    line(table[0]!),
    widths.map((w) => '-'.repeat(Math.max(w, 4))).join('  '),
    ...table.slice(1).map(line),
  ].join('\n');
}

function mdCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export interface ResultsDocument {
  date: Date;
  machine: MachineDescription;
  quick: boolean;
  only: string[];
  plan: { runs: number; seconds: number };
  rows: readonly BenchRow[];
  /** Cores busy with other work just before the run (the machine may be shared). */
  backgroundCores?: number;
}

export function renderResultsMarkdown(doc: ResultsDocument): string {
  const m = doc.machine;
  const mode = doc.quick
    ? `quick run (${doc.plan.runs} × ${doc.plan.seconds} s iperf3 per number): indicative only`
    : `full run (median of ${doc.plan.runs} × ${doc.plan.seconds} s iperf3 runs per number)`;
  const out = [
    TITLE,
    '',
    `Written by \`npm run bench\` on ${doc.date.toISOString().replace('T', ' ').slice(0, 16)} UTC — ${mode}` +
      (doc.only.length ? `; only: ${doc.only.join(', ')}` : '') +
      '.',
    '',
    'Ratios compare against anchors measured in this same run on the same kind of namespace pair ' +
      '(plain veth, Debian wireguard-go, Debian OpenVPN with AES-256-GCM, userspace). ' +
      'CPU-s/Gbit is whole-machine busy CPU seconds per Gbit moved (= cores busy per Gbit/s); lower is better.',
    '',
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    `| CPU | ${mdCell(m.cpu)} |`,
    `| cores | ${m.cores} |`,
    `| memory | ${m.memory} |`,
    `| kernel | ${mdCell(m.kernel)} |`,
    `| Node | ${m.node} |`,
    ...(doc.backgroundCores === undefined
      ? []
      : [
          `| busy before the run | ${doc.backgroundCores.toFixed(2)} of ${m.cores} cores (other work; numbers are noisier when high) |`,
        ]),
    ...Object.entries(m.tools).map(([tool, version]) => `| ${tool} | ${mdCell(version)} |`),
  ];
  for (const group of groupsOf(doc.rows)) out.push('', ...groupSection(group, doc.rows));
  return `${out.join('\n')}\n`;
}

const TITLE = '# Switchyard benchmark results';
const UPDATES =
  'Sections replaced since by partial runs (`npm run bench -- --only NAME`), each with its own numbers and anchors:';

function groupsOf(rows: readonly BenchRow[]): string[] {
  return [...new Set(rows.map((r) => r.group))];
}

function groupSection(group: string, rows: readonly BenchRow[]): string[] {
  const out = [
    `## ${group}`,
    '',
    '| name | value | unit | ratio | target | note |',
    '|---|---:|---|---|---|---|',
  ];
  for (const row of rows.filter((r) => r.group === group)) {
    const [, name, value, unit, ratio, target, note] = cells(row).map(mdCell);
    out.push(`| ${name} | ${value} | ${unit} | ${ratio} | ${target} | ${note} |`);
  }
  return out;
}

/**
 * What RESULTS.md becomes after a run. A full run (or one with no previous file) writes the whole
 * document; a partial run (--only) replaces the sections of the groups it measured, appends new ones,
 * keeps every other section as it was, and lists under the header when and how each replaced one was
 * measured (a later partial run of the same group replaces its line).
 */
export function mergeResultsMarkdown(previous: string | null, doc: ResultsDocument): string {
  if (!doc.only.length || !previous?.startsWith(`${TITLE}\n`)) return renderResultsMarkdown(doc);
  const [head = '', ...rest] = previous.split(/^(?=## )/m);
  const sections = rest.map((text) => ({
    title: text.slice(3, text.indexOf('\n')).trim(),
    text: text.trimEnd(),
  }));
  const groups = groupsOf(doc.rows);
  for (const group of groups) {
    const text = groupSection(group, doc.rows).join('\n');
    const at = sections.findIndex((s) => s.title === group);
    if (at >= 0) sections[at] = { title: group, text };
    else sections.push({ title: group, text });
  }

  const machineText = sections.find((s) => s.title === 'Machine')?.text ?? '';
  const was = (label: string) => new RegExp(`^\\| ${label} \\| (.*) \\|$`, 'm').exec(machineText)?.[1];
  const m = doc.machine;
  const elsewhere =
    was('CPU') !== mdCell(m.cpu) || was('kernel') !== mdCell(m.kernel)
      ? `, on ${m.cpu}, kernel ${m.kernel}`
      : '';
  const busy =
    doc.backgroundCores === undefined
      ? ''
      : `, ${doc.backgroundCores.toFixed(2)} of ${m.cores} cores busy before it`;
  const when = doc.date.toISOString().replace('T', ' ').slice(0, 16);
  const how = `${doc.quick ? 'quick run, indicative only' : 'full run'}${busy}${elsewhere}`;

  // The head: title, "Written by" paragraph, the list of replaced sections (if any), the rest.
  const paragraphs = head.trim().split(/\n\n+/);
  const listAt = paragraphs.findIndex((p) => p.startsWith(UPDATES));
  const lines = new Map<string, string>();
  for (const line of listAt >= 0 ? paragraphs[listAt]!.split('\n').slice(1) : []) {
    const group = /^- (.+?): \d{4}-/.exec(line)?.[1];
    if (group) lines.set(group, line);
  }
  for (const group of groups) lines.set(group, `- ${group}: ${when} UTC, ${how}`);
  const list = [UPDATES, ...lines.values()].join('\n');
  if (listAt >= 0) paragraphs[listAt] = list;
  else paragraphs.splice(Math.max(1, paragraphs.findIndex((p) => p.startsWith('Written by')) + 1), 0, list);
  return `${[paragraphs.join('\n\n'), ...sections.map((s) => s.text)].join('\n\n')}\n`;
}
