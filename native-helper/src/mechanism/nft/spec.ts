// A typed description of one `inet` table and its rendering to nft syntax.
// Rules are nft statements as text: this layer stays generic; the policy layer writes the statements.

export interface CounterSpec {
  name: string;
  /** Initial values, used to carry counts across an atomic table replace. */
  packets?: number;
  bytes?: number;
}

export interface SetSpec {
  name: string;
  /** nft type expression, e.g. "mark" or "mark . ifname". */
  type: string;
  /** Elements already in nft syntax, e.g. '0x5a010001 . "eth0"'. */
  elements: string[];
}

export interface MapSpec {
  name: string;
  /** e.g. "mark : counter" */
  type: string;
  /** [key, value] in nft syntax, e.g. ['0x5a010001', '"tx_1"']. */
  elements: [string, string][];
}

export interface ChainSpec {
  name: string;
  /** Base-chain hook; omit for a regular chain. */
  hook?: {
    type: 'filter' | 'nat' | 'route';
    hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
    priority: string | number;
    policy?: 'accept' | 'drop';
  };
  rules: string[];
}

export interface TableSpec {
  /** Table name in family inet. */
  name: string;
  /** Stored as the table comment; the reconciler keeps a content hash here. */
  comment?: string;
  counters: CounterSpec[];
  sets: SetSpec[];
  maps: MapSpec[];
  chains: ChainSpec[];
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

function checkName(what: string, name: string): void {
  if (!NAME.test(name))
    throw new Error(`nft ${what} name "${name}" is invalid; use a letter then letters, digits or _.`);
}

function quote(s: string): string {
  if (/["\n\\]/.test(s)) throw new Error(`nft comment may not contain quotes, backslashes or newlines: ${s}`);
  return `"${s}"`;
}

/** The table body, `table inet NAME { … }`. */
export function renderTable(spec: TableSpec): string {
  checkName('table', spec.name);
  const out: string[] = [`table inet ${spec.name} {`];
  if (spec.comment) out.push(`  comment ${quote(spec.comment)}`);
  for (const c of spec.counters) {
    checkName('counter', c.name);
    const init = c.packets || c.bytes ? ` packets ${c.packets ?? 0} bytes ${c.bytes ?? 0} ` : '';
    out.push(`  counter ${c.name} {${init}}`);
  }
  for (const s of spec.sets) {
    checkName('set', s.name);
    const elements = s.elements.length ? ` elements = { ${s.elements.join(', ')} };` : '';
    out.push(`  set ${s.name} { type ${s.type};${elements} }`);
  }
  for (const m of spec.maps) {
    checkName('map', m.name);
    const elements = m.elements.length
      ? ` elements = { ${m.elements.map(([k, v]) => `${k} : ${v}`).join(', ')} };`
      : '';
    out.push(`  map ${m.name} { type ${m.type};${elements} }`);
  }
  for (const ch of spec.chains) {
    checkName('chain', ch.name);
    out.push(`  chain ${ch.name} {`);
    if (ch.hook)
      out.push(
        `    type ${ch.hook.type} hook ${ch.hook.hook} priority ${ch.hook.priority}; policy ${ch.hook.policy ?? 'accept'};`,
      );
    for (const r of ch.rules) {
      if (r.includes('\n')) throw new Error(`nft rule contains a newline: ${JSON.stringify(r)}`);
      out.push(`    ${r}`);
    }
    out.push('  }');
  }
  out.push('}');
  return out.join('\n') + '\n';
}

/**
 * One transaction that replaces the table atomically: create it if missing (so the delete cannot fail),
 * delete it, add the full new one. Applying it twice gives the same result.
 */
export function renderReplace(spec: TableSpec): string {
  return replaceScript(spec.name, renderTable(spec));
}

/** Same as renderReplace for a table already in nft text (e.g. `nft list table` output). */
export function replaceScript(name: string, tableText: string): string {
  checkName('table', name);
  return `table inet ${name} {}\ndelete table inet ${name}\n${tableText.endsWith('\n') ? tableText : tableText + '\n'}`;
}
