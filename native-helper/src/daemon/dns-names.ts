// The names each app looked up, for the connection history (connections.ts): the DNS replies to the
// instance's apps, which the nft table copies to its NFLOG group with the app's mark
// (policy/compile.ts logDnsReplies), read by mechanism/dns/nflog-watch.ts, and the forwarder's answers
// (mechanism/dns/forwarder.ts). Per app, address → the name whose answer gave it. Bounded: each entry
// lives max(TTL, 5 min), at most PER_APP per app and TOTAL in all, the least recently used going first.
import type { EventEmitter } from 'node:events';
import type { AppId } from '../api/schema.ts';
import { markFor, type Layout } from '../layout/kernel-layout.ts';
import { parseDnsAnswers } from '../mechanism/dns/dns-answers.ts';
import { dnsMessageOf } from '../mechanism/dns/nflog-pcap.ts';
import { type NflogWatch, watchNflog } from '../mechanism/dns/nflog-watch.ts';

export const PER_APP = 1000;
export const TOTAL = 20_000;
export const MIN_LIFE_MS = 5 * 60_000;
/**
 * A name counts for a connection when its answer was seen no later than this after the connection
 * began: the capture's clock (the moment tcpdump read the log) may run behind the app's connect().
 */
export const SLACK_MS = 2000;

interface Entry {
  app: AppId;
  address: string;
  name: string;
  /** When this address first had this name (kept while the answer repeats). */
  since: number;
  expires: number;
}

export interface DnsNamesDeps {
  layout: Layout;
  /** The app a packet mark belongs to (an app's own or one of its flow classes), null when not ours. */
  appOf: (mark: number) => AppId | null;
  problem: (message: string | null) => void;
  log: (msg: string) => void;
  now?: () => number;
  /** Tests read no NFLOG group. */
  watch?: (group: number) => Promise<NflogWatch>;
}

const keyOf = (app: AppId, address: string) => `${app}\n${address}`;

export class DnsNames {
  private watch: NflogWatch | null = null;
  /** Every entry, least recently used first. */
  private readonly all = new Map<string, Entry>();
  /** The same entries per app, least recently used first. */
  private readonly byApp = new Map<AppId, Map<string, Entry>>();
  private readonly now: () => number;

  constructor(
    private readonly deps: DnsNamesDeps,
    readonly perApp = PER_APP,
    readonly total = TOTAL,
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** Whether the group is read (then compile() copies the replies to it). */
  get reading(): boolean {
    return this.watch !== null;
  }

  get size(): number {
    return this.all.size;
  }

  /** Starts reading the group; a machine without tcpdump gets a problem, not a failed start. */
  async start(): Promise<void> {
    try {
      this.watch = await (this.deps.watch ?? watchNflog)(this.deps.layout.dnsLogGroup);
      this.deps.problem(null);
      this.watch.on('packet', (p) => {
        const dns = p.payload && dnsMessageOf(p.payload);
        if (dns) this.reply(p.mark, dns.message, p.at);
      });
      this.watch.on('error', (err) => this.deps.log(`looked-up names: ${err.message}`));
    } catch (err) {
      this.deps.problem(
        `the connection history shows no looked-up names: they need tcpdump (Debian package tcpdump): ${(err as Error).message}`,
      );
    }
  }

  async stop(): Promise<void> {
    await this.watch?.stop();
    this.watch = null;
  }

  /** The forwarder's answers are the app's replies too (it asks for apps whose servers are IPv6 only). */
  follow(forwarder: EventEmitter): void {
    forwarder.on('answer', (a: { tag: number; answer: Buffer }) =>
      this.reply(markFor(this.deps.layout, a.tag), a.answer, this.now()),
    );
  }

  /** A DNS reply delivered to the app with this mark. */
  reply(mark: number, message: Buffer, at: number): void {
    const app = this.deps.appOf(mark);
    if (!app) return;
    const answers = parseDnsAnswers(message);
    if (!answers || !answers.name) return;
    for (const a of answers.addresses) this.learn(app, a.address, answers.name, a.ttl, at);
  }

  learn(app: AppId, address: string, name: string, ttlSeconds: number, at: number): void {
    const key = keyOf(app, address);
    const had = this.all.get(key);
    const expires = at + Math.max(ttlSeconds * 1000, MIN_LIFE_MS);
    const same = had && had.name === name && had.expires > at;
    const e: Entry = {
      app,
      address,
      name,
      since: same ? had.since : at,
      expires: same ? Math.max(expires, had.expires) : expires,
    };
    this.drop(key);
    this.put(key, e);
    const mine = this.byApp.get(app)!;
    if (mine.size > this.perApp) this.drop(mine.keys().next().value!);
    while (this.all.size > this.total) this.drop(this.all.keys().next().value!);
  }

  /**
   * The name the app looked up for an address; with `at` (when the connection began), only a name
   * whose answer came before it (within SLACK_MS), so a later lookup never names an earlier connection.
   */
  nameOf(app: AppId, address: string, at?: number): string | null {
    const key = keyOf(app, address);
    const e = this.all.get(key);
    if (!e) return null;
    if (e.expires <= this.now()) {
      this.drop(key);
      return null;
    }
    if (at !== undefined && e.since > at + SLACK_MS) return null;
    this.drop(key);
    this.put(key, e); // the most recently used now
    return e.name;
  }

  forgetApp(app: AppId): void {
    for (const key of [...(this.byApp.get(app)?.keys() ?? [])]) this.drop(key);
  }

  private put(key: string, e: Entry): void {
    this.all.set(key, e);
    let mine = this.byApp.get(e.app);
    if (!mine) this.byApp.set(e.app, (mine = new Map()));
    mine.set(key, e);
  }

  private drop(key: string): void {
    const e = this.all.get(key);
    if (!e) return;
    this.all.delete(key);
    const mine = this.byApp.get(e.app);
    mine?.delete(key);
    if (mine?.size === 0) this.byApp.delete(e.app);
  }
}
