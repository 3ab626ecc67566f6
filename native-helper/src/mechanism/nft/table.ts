// Apply, read, delete nftables tables (family inet) with the nft CLI.
import { run } from '../exec.ts';
import { nsArgv, type NetnsOption } from '../netlink/ns.ts';
import { renderReplace, replaceScript, type TableSpec } from './spec.ts';

function nft(opts: NetnsOption, args: string[]): string[] {
  return nsArgv(opts, ['nft', ...args]);
}

/** Runs an nft script as one transaction; nothing is applied if any line fails. */
export async function applyScript(script: string, opts: NetnsOption = {}): Promise<void> {
  const res = await run(nft(opts, ['-f', '-']), { input: script, allowFailure: true });
  if (res.code !== 0)
    throw new Error(`nft rejected the transaction (nothing was changed): ${res.stderr.trim()}`);
}

/** Atomically replaces (or creates) the table described by spec. */
export async function applyTable(spec: TableSpec, opts: NetnsOption = {}): Promise<void> {
  await applyScript(renderReplace(spec), opts);
}

/** Atomically replaces (or creates) a table from nft text, e.g. a previous `listTable` result. */
export async function restoreTable(name: string, text: string, opts: NetnsOption = {}): Promise<void> {
  await applyScript(replaceScript(name, text), opts);
}

/** Deletes the table; no error when it does not exist. */
export async function deleteTable(name: string, opts: NetnsOption = {}): Promise<void> {
  await applyScript(`table inet ${name} {}\ndelete table inet ${name}\n`, opts);
}

/** The table as nft text (with counter values), or null when it does not exist. */
export async function listTable(name: string, opts: NetnsOption = {}): Promise<string | null> {
  const res = await run(nft(opts, ['list', 'table', 'inet', name]), { allowFailure: true });
  if (res.code === 0) return res.stdout;
  if (/No such file or directory/.test(res.stderr)) return null;
  throw new Error(`could not read nft table inet ${name}: ${res.stderr.trim()}`);
}

/** The table comment from nft text (nft 1.0.6 JSON does not include it). */
export function tableComment(text: string): string | null {
  const m = /^\s*comment "([^"]*)"\s*$/m.exec(text.split(/\n\s*(?:chain|set|map|counter) /)[0] ?? '');
  return m ? m[1]! : null;
}

export interface CounterValue {
  packets: number;
  bytes: number;
}

/** Named counters of the table; empty when the table does not exist. */
export async function readCounters(name: string, opts: NetnsOption = {}): Promise<Map<string, CounterValue>> {
  const res = await run(nft(opts, ['-j', 'list', 'counters', 'table', 'inet', name]), { allowFailure: true });
  const out = new Map<string, CounterValue>();
  if (res.code !== 0) {
    if (/No such file or directory/.test(res.stderr)) return out;
    throw new Error(`could not read nft counters of inet ${name}: ${res.stderr.trim()}`);
  }
  return parseCounters(res.stdout);
}

/** Named counters from `nft list table` text (the reconciler's read already holds them). */
export function countersFromText(text: string): Map<string, CounterValue> {
  const out = new Map<string, CounterValue>();
  const re = /^\s*counter (\S+) \{\s*\n\s*packets (\d+) bytes (\d+)/gm;
  for (let m = re.exec(text); m; m = re.exec(text))
    out.set(m[1]!, { packets: Number(m[2]), bytes: Number(m[3]) });
  return out;
}

export function parseCounters(json: string): Map<string, CounterValue> {
  const out = new Map<string, CounterValue>();
  const doc = JSON.parse(json) as {
    nftables?: { counter?: { name: string; packets: number; bytes: number } }[];
  };
  for (const item of doc.nftables ?? []) {
    if (item.counter)
      out.set(item.counter.name, { packets: item.counter.packets, bytes: item.counter.bytes });
  }
  return out;
}
