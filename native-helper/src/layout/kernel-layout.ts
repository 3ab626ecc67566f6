// Every number the helper puts in the kernel, derived from the instance name so that two instances
// (or a test and a real helper) never touch each other's state.
//
//   slot        1..200, a stable hash of the instance name (or an explicit override).
//   mark        0x5A000000 | slot << 16 | tag       (tag 1..65535; matched with mask 0xFFFFFFFF)
//               bits 31..24 = 0x5A "ours", bits 23..16 = slot, bits 15..0 = the app's tag.
//               Tags 0xF001..0xFFFE are flow classes: the flows of one app that encrypt rules send into
//               one tunnel (and key group); the classifier (bpf/flow_rules.bpf.c) gives them that mark.
//   priorities  base = 10000 + slot * 16, 16 per instance, all between `local` (0) and `main` (32766):
//                 base + 1          block   (prohibit)              – blocked apps
//                 base + 2 .. + 9   lookup  (table of egress #i)    – one per listed egress, in order,
//                                   so the kernel itself fails over when an egress's routes vanish
//                 base + 12         kill    (unreachable)           – always present for kill-switched apps,
//                                   so a marked packet can never fall through to the main table
//   tables      0x5A000000 + slot * 1024 + n (n 1..1023), one per egress, allocated in the policy.
//   nft table   inet switchyard_<instance>
//   NFLOG group 0x5A00 + slot (23041..23240): the DNS replies to the instance's apps, copied for the
//               connection history's names (mechanism/dns/nflog-watch.ts); one per instance, so two
//               helpers side by side never read each other's apps' lookups.
//
// `switchyard gateway` (gatewayLayout) has its own numbers, below every client slot:
//   uplink mark 0x5B000000 | 16 bits of the instance << 8 | uplink (1..255); it is also the table id.
//   priorities  10000 lookup main suppress_prefixlength 0 (the tunnel subnet and connected networks
//               still win), 10001 lookup the uplink's table; only rules carrying its own marks are its.
//   nft table   inet switchyard_gw_<instance>
export const MARK_PREFIX = 0x5a000000;
export const MARK_MASK = 0xffffffff;
export const SLOT_MASK = 0xffff0000;
export const MAX_SLOT = 200;
export const MAX_TAG = 0xffff;
/** Tags above this are flow classes: an app's flows that an encrypt rule sends into a tunnel. */
export const MAX_APP_TAG = 0xefff;
export const CLASS_TAG_BASE = 0xf000;
export const MAX_CLASSES = 0xffe;
export const PRIORITY_START = 10000;
export const PRIORITIES_PER_SLOT = 16;
export const MAX_LOOKUPS = 8;
export const TABLES_PER_SLOT = 1024;
export const DNS_LOG_GROUP_BASE = 0x5a00;

/** What one reconciler owns: rule priorities, routing tables and (optionally) one nft table. */
export interface KernelScope {
  priorities: { first: number; last: number };
  tables: { first: number; last: number };
  /** null: this scope has no nft table. */
  nftTable: string | null;
  /** When set, a rule in the priority range is ours only if (fwmark & mask) === value. */
  marks?: { value: number; mask: number };
}

export interface Layout extends KernelScope {
  instance: string;
  slot: number;
  /** The mark with tag 0: every mark of this instance matches it under SLOT_MASK. */
  markBase: number;
  priorities: { first: number; last: number; block: number; lookup: number; kill: number };
  tables: { first: number; last: number };
  nftTable: string;
  /** The NFLOG group the nft table copies the instance's apps' DNS replies to. */
  dnsLogGroup: number;
}

/** 32-bit FNV-1a of a string's UTF-8 bytes: small, stable ids derived from names. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** FNV-1a over the instance name, folded into 1..200. */
export function slotFor(instance: string): number {
  return (fnv1a32(instance) % MAX_SLOT) + 1;
}

export function layoutFor(instance: string, slotOverride?: number): Layout {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(instance))
    throw new Error(`instance name "${instance}" is invalid; use 1-40 letters, digits, _ or -.`);
  const slot = slotOverride ?? slotFor(instance);
  if (!Number.isInteger(slot) || slot < 1 || slot > MAX_SLOT)
    throw new Error(`slot ${slot} is out of range; pick 1..${MAX_SLOT}.`);
  const base = PRIORITY_START + slot * PRIORITIES_PER_SLOT;
  const tableFirst = MARK_PREFIX + slot * TABLES_PER_SLOT;
  return {
    instance,
    slot,
    markBase: (MARK_PREFIX | (slot << 16)) >>> 0,
    priorities: {
      first: base,
      last: base + PRIORITIES_PER_SLOT - 1,
      block: base + 1,
      lookup: base + 2,
      kill: base + 12,
    },
    tables: { first: tableFirst + 1, last: tableFirst + TABLES_PER_SLOT - 1 },
    nftTable: `switchyard_${instance.replace(/-/g, '_')}`,
    dnsLogGroup: DNS_LOG_GROUP_BASE + slot,
  };
}

export function markFor(layout: Layout, tag: number): number {
  if (!Number.isInteger(tag) || tag < 1 || tag > MAX_TAG)
    throw new Error(`tag ${tag} is out of range; tags are 1..65535.`);
  return (layout.markBase | tag) >>> 0;
}

/** The tag of flow class n (1..MAX_CLASSES). */
export function classTag(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_CLASSES)
    throw new Error(`flow class ${n} is out of range 1..${MAX_CLASSES}.`);
  return CLASS_TAG_BASE + n;
}

/** The tag of a mark of this instance, or null when the mark is not ours. */
export function tagOfMark(layout: Layout, mark: number): number | null {
  if ((mark & SLOT_MASK) >>> 0 !== layout.markBase) return null;
  const tag = mark & 0xffff;
  return tag === 0 ? null : tag;
}

/** Table id for the n-th egress table (n 1..1023). */
export function tableFor(layout: Layout, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n >= TABLES_PER_SLOT)
    throw new Error(`egress table index ${n} is out of range 1..1023.`);
  return layout.tables.first - 1 + n;
}

export function isOurPriority(scope: KernelScope, priority: number): boolean {
  return priority >= scope.priorities.first && priority <= scope.priorities.last;
}

export function isOurTable(scope: KernelScope, table: number): boolean {
  return table >= scope.tables.first && table <= scope.tables.last;
}

/** Whether a rule with this mark may be ours (always, unless the scope narrows rules by mark). */
export function isOurMark(scope: KernelScope, fwmark: number): boolean {
  return !scope.marks || (fwmark & scope.marks.mask) >>> 0 === scope.marks.value;
}

/** A scope that owns no rules, tables or nft table: for desired state that is only links. */
export const LINKS_ONLY: KernelScope = {
  priorities: { first: 1, last: 0 },
  tables: { first: 1, last: 0 },
  nftTable: null,
};

export const GATEWAY_MARK_PREFIX = 0x5b000000;
export const GATEWAY_RULE_PRIORITY = PRIORITY_START;
export const MAX_UPLINKS = 255;

export interface GatewayLayout extends KernelScope {
  instance: string;
  /** The uplink mark with index bits 0. */
  markBase: number;
  nftTable: string;
}

export function gatewayLayout(instance: string): GatewayLayout {
  const h = fnv1a32(instance);
  const markBase = (GATEWAY_MARK_PREFIX | (((h ^ (h >>> 16)) & 0xffff) << 8)) >>> 0;
  return {
    instance,
    markBase,
    priorities: { first: GATEWAY_RULE_PRIORITY, last: GATEWAY_RULE_PRIORITY + 1 },
    tables: { first: markBase + 1, last: markBase + MAX_UPLINKS },
    nftTable: `switchyard_gw_${instance.replace(/[^A-Za-z0-9_]/g, '_')}`,
    marks: { value: markBase, mask: 0xffffff00 },
  };
}

/** The mark (and table id) of the gateway's uplink #index (0-based). */
export function uplinkMark(layout: GatewayLayout, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_UPLINKS)
    throw new Error(`uplink index ${index} is out of range 0..${MAX_UPLINKS - 1}.`);
  return (layout.markBase | (index + 1)) >>> 0;
}

export function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}
