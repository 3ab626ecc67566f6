// The flow classifier: native-helper/bpf/flow_rules.bpf.c on connect()/sendmsg(), and its pinned maps.
// Each list is an app's ordered entries, found by the socket's mark (the app's mark and its flow-class
// marks share one list). replace() writes every list at once: it fills the generation not in use, flips
// flow_ctl to it, then clears the old one, so a connect() sees either the old lists or the new ones.
import { isIPv4, isIPv6 } from 'node:net';
import { CLASSIFIER_OBJECT_PATH, native } from '../native.ts';

/** Keep in sync with flow_rules.bpf.c. */
const HALF = 16384;
const ENTRY_SIZE = 32;
const ACTIONS = { clear: 0, mark: 1, block: 2 } as const;

export interface ClassifierEntry {
  /** 0: both families (only without a prefix). */
  family: 0 | 4 | 6;
  /** 0: any protocol. */
  proto: 0 | 6 | 17;
  /** Destination prefix, e.g. "198.18.0.0/15"; null matches every destination. */
  prefix: string | null;
  /** Destination ports, inclusive; [0, 65535] is any. */
  ports: [number, number];
  action: keyof typeof ACTIONS;
  /** For 'mark': the flow-class mark the socket gets. */
  mark?: number;
}

export interface ClassifierList {
  /** The socket marks that select this list: the app's mark and its flow-class marks. */
  marks: number[];
  /** The mark a socket gets back when no entry (or a clear entry) matches. */
  appMark: number;
  entries: ClassifierEntry[];
}

/** The classifier's pin directory beside the tagger's: /sys/fs/bpf/switchyard-<instance>-flows. */
export function classifierPinDirFor(taggerPinDir: string): string {
  return `${taggerPinDir}-flows`;
}

export interface ClassifierOptions {
  cgroupPath: string;
  /** bpffs directory for the pins, e.g. /sys/fs/bpf/switchyard-<instance>-flows. */
  pinDir: string;
  object?: string;
}

function addressBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new Error(`"${address}" is not an IP address.`);
  const [head = '', tail = ''] = address.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = address.includes('::') ? groups(tail) : [];
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function encodeEntry(e: ClassifierEntry): Buffer {
  const b = Buffer.alloc(ENTRY_SIZE);
  b[0] = e.family;
  b[1] = e.proto;
  if (e.prefix) {
    const [address = '', length = ''] = e.prefix.split('/');
    const bytes = addressBytes(address);
    if ((bytes.length === 4 ? 4 : 6) !== e.family)
      throw new Error(`entry prefix ${e.prefix} does not match its family ${e.family}.`);
    b[2] = Number(length);
    bytes.copy(b, 8);
  }
  b[3] = ACTIONS[e.action];
  b.writeUInt16LE(e.ports[0], 4);
  b.writeUInt16LE(e.ports[1], 6);
  b.writeUInt32LE((e.mark ?? 0) >>> 0, 24);
  return b;
}

const listKey = (gen: number, mark: number) => {
  const k = Buffer.alloc(8);
  k.writeUInt32LE(gen, 0);
  k.writeUInt32LE(mark >>> 0, 4);
  return k;
};

/** What the kernel holds, in a form that compares by value: one line per list, in mark order. */
export interface ClassifierImage {
  /** mark → [appMark, entries as hex records] */
  lists: Record<string, string>;
}

export function imageOf(lists: readonly ClassifierList[]): ClassifierImage {
  const out: Record<string, string> = {};
  for (const l of lists) {
    const body = `${l.appMark >>> 0}:${l.entries.map((e) => encodeEntry(e).toString('hex')).join(',')}`;
    for (const m of l.marks) out[String(m >>> 0)] = body;
  }
  return { lists: out };
}

export class Classifier {
  readonly cgroupPath: string;
  readonly pinDir: string;
  readonly object: string;

  constructor(opts: ClassifierOptions) {
    this.cgroupPath = opts.cgroupPath;
    this.pinDir = opts.pinDir;
    this.object = opts.object ?? CLASSIFIER_OBJECT_PATH;
  }

  private pin(map: string): string {
    return `${this.pinDir}/${map}`;
  }

  /** Loads, pins and attaches; safe to call again, including after a crash (the lists in force stay). */
  attach(): { reusedMaps: boolean } {
    return native().classifierAttach({
      object: this.object,
      cgroupPath: this.cgroupPath,
      pinDir: this.pinDir,
    });
  }

  detach(): { detached: number } {
    return native().classifierDetach({ cgroupPath: this.cgroupPath, pinDir: this.pinDir });
  }

  private generation(): number {
    const { values } = native().bpfMapDump(this.pin('flow_ctl'));
    return values.length >= 4 ? values.readUInt32LE(0) & 1 : 0;
  }

  replace(lists: readonly ClassifierList[]): void {
    const total = lists.reduce((n, l) => n + l.entries.length, 0);
    if (total > HALF)
      throw new Error(`the rules expand to ${total} classifier entries; at most ${HALF} fit. Remove rules.`);
    const addon = native();
    const active = this.generation();
    const next = 1 - active;
    const entryKeys: Buffer[] = [];
    const entryValues: Buffer[] = [];
    const keys: Buffer[] = [];
    const values: Buffer[] = [];
    let start = 0;
    for (const l of lists) {
      l.entries.forEach((e, i) => {
        const k = Buffer.alloc(4);
        k.writeUInt32LE(next * HALF + start + i, 0);
        entryKeys.push(k);
        entryValues.push(encodeEntry(e));
      });
      for (const mark of l.marks) {
        const v = Buffer.alloc(16);
        v.writeUInt32LE(start, 0);
        v.writeUInt32LE(l.entries.length, 4);
        v.writeUInt32LE(l.appMark >>> 0, 8);
        keys.push(listKey(next, mark));
        values.push(v);
      }
      start += l.entries.length;
    }
    // The new generation's leftovers (from a replace that died half-way) go first.
    this.clear(next);
    addon.bpfMapUpdate(this.pin('flow_entries'), Buffer.concat(entryKeys), Buffer.concat(entryValues));
    addon.bpfMapUpdate(this.pin('flow_lists'), Buffer.concat(keys), Buffer.concat(values));
    const ctl = Buffer.alloc(4);
    ctl.writeUInt32LE(next, 0);
    addon.bpfMapUpdate(this.pin('flow_ctl'), Buffer.alloc(4), ctl);
    this.clear(active);
  }

  private clear(gen: number): void {
    const { keys } = native().bpfMapDump(this.pin('flow_lists'));
    const stale: Buffer[] = [];
    for (let off = 0; off < keys.length; off += 8)
      if (keys.readUInt32LE(off) === gen) stale.push(keys.subarray(off, off + 8));
    if (stale.length) native().bpfMapDelete(this.pin('flow_lists'), Buffer.concat(stale));
  }

  /** The lists in force, as an image to compare with imageOf(desired). */
  read(): ClassifierImage {
    const addon = native();
    const gen = this.generation();
    const lists = addon.bpfMapDump(this.pin('flow_lists'));
    const out: Record<string, string> = {};
    // Only the entries the lists use: the whole array is 32,768 records.
    const wanted: { mark: number; appMark: number; first: number; count: number }[] = [];
    const keys: Buffer[] = [];
    for (let i = 0; i * 8 < lists.keys.length; i++) {
      if (lists.keys.readUInt32LE(i * 8) !== gen) continue;
      const start = lists.values.readUInt32LE(i * 16);
      const count = Math.min(lists.values.readUInt32LE(i * 16 + 4), HALF);
      wanted.push({
        mark: lists.keys.readUInt32LE(i * 8 + 4),
        appMark: lists.values.readUInt32LE(i * 16 + 8),
        first: keys.length,
        count,
      });
      for (let j = 0; j < count; j++) {
        const k = Buffer.alloc(4);
        k.writeUInt32LE(gen * HALF + start + j, 0);
        keys.push(k);
      }
    }
    const entries = keys.length
      ? addon.bpfMapLookup(this.pin('flow_entries'), Buffer.concat(keys))
      : Buffer.alloc(0);
    for (const w of wanted) {
      const body: string[] = [];
      for (let j = 0; j < w.count; j++) {
        const at = (w.first + j) * ENTRY_SIZE;
        body.push(entries.subarray(at, at + ENTRY_SIZE).toString('hex'));
      }
      out[String(w.mark)] = `${w.appMark}:${body.join(',')}`;
    }
    return { lists: out };
  }
}
