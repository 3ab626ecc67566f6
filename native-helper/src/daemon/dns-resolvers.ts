// Each egress's DNS servers, for the stub redirect (policy/compile.ts, docs/dns.md): what the system
// says per link (systemd-resolved, else NetworkManager: mechanism/dns), else the user's settings in
// the policy (`switchyard dns set`); a tunnel's, what its gateway offers unless the user set others.
// The system is read again when the links change and every 15 s
// (a few D-Bus property reads per link; a lease that brings servers later is seen); a change re-applies.
// Apps whose egress has IPv6 servers only are served by the forwarder (mechanism/dns/forwarder.ts).
import { isIP } from 'node:net';
import { ApiError, type Interface } from '../api/schema.ts';
import type { DnsSource, EgressDns } from '../api/dns-schema.ts';
import { DnsForwarder, type ForwardSpec } from '../mechanism/dns/forwarder.ts';
import { inInitialNetns } from '../mechanism/dns/busctl.ts';
import { readSystemServers, type LinkServers } from '../mechanism/dns/index.ts';
import { markFor, type Layout } from '../layout/kernel-layout.ts';
import { forwarderAddress } from '../policy/compile.ts';
import type { PolicyDocument } from '../policy/model.ts';

const POLL_MS = 15_000;

export interface DnsResolversDeps {
  /** The user's policy document and how to change it (PolicyState). */
  policy: () => PolicyDocument;
  commit: (doc: PolicyDocument) => void;
  interfaces: () => readonly Interface[];
  layout: Layout;
  /** Every app's tag and its active egress as last applied (null: none, e.g. held). */
  apps: () => { tag: number; active: string | null }[];
  /** Re-apply: the servers an egress's apps are redirected to changed. */
  refresh: () => void;
  log: (msg: string) => void;
  /** Tunnel → the resolvers its gateway offered in the handshake (TunnelManager.gatewayResolvers). */
  gatewayResolvers?: () => Record<string, string[]>;
  /** mechanism/dns unless a test stands in. */
  readSystem?: (links: readonly { name: string; index: number }[]) => Promise<Record<string, LinkServers>>;
}

export class DnsResolvers {
  private system: Record<string, LinkServers> = {};
  private readLinks = '';
  private reading: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Its 'lookup' events (Lookup) say which names managed apps asked through it. */
  readonly forwarder: DnsForwarder;

  constructor(private readonly deps: DnsResolversDeps) {
    this.forwarder = new DnsForwarder(deps.log);
  }

  /** Reads the system's servers now and whenever the links change (see linksChanged) or POLL_MS pass. */
  async start(): Promise<void> {
    await this.read();
    // Outside the host's namespace the system is never asked (mechanism/dns/busctl.ts): nothing to poll.
    if (!this.deps.readSystem && !inInitialNetns()) return;
    this.timer = setInterval(() => void this.read(), POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.forwarder.stop();
  }

  /** After an apply: forwarders for the apps compile() sent to one; new or changed links read again. */
  afterApply(): void {
    void this.forwarder.sync(this.forwards());
    if (this.linkKey() !== this.readLinks) void this.read();
  }

  /** The apps whose active egress has IPv6 servers only (compile() DNATs them to their forwarder). */
  forwards(): ForwardSpec[] {
    const all = this.forCompile();
    const out: ForwardSpec[] = [];
    for (const a of this.deps.apps()) {
      const servers = (a.active && all[a.active]) || [];
      if (!a.active || servers.some((r) => isIP(r) === 4)) continue;
      const v6 = servers.filter((r) => isIP(r) === 6);
      if (v6.length)
        out.push({
          tag: a.tag,
          address: forwarderAddress(a.tag),
          mark: markFor(this.deps.layout, a.tag),
          egress: a.active,
          servers: v6,
        });
    }
    return out;
  }

  /** Egress → its servers, for compile(). */
  forCompile(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const egress of this.known()) {
      const r = this.resolve(egress);
      if (r) out[egress] = r.servers;
    }
    return out;
  }

  /** Every egress some source names servers for. */
  private known(): string[] {
    return [
      ...new Set([
        ...Object.keys(this.deps.policy().dnsResolvers ?? {}),
        ...Object.keys(this.system),
        ...Object.keys(this.deps.gatewayResolvers?.() ?? {}),
      ]),
    ];
  }

  /**
   * Which servers an egress uses and why. A tunnel's gateway resolvers come before the system's (which
   * knows nothing of the tunnel), and the user's setting before both; on other links the system's
   * servers come first and the setting is for links it names none for.
   */
  private resolve(egress: string): { servers: string[]; source: DnsSource } | null {
    const set = this.deps.policy().dnsResolvers?.[egress] ?? [];
    const gateway = this.deps.gatewayResolvers?.()[egress] ?? [];
    const sys = this.system[egress];
    if (gateway.length)
      return set.length ? { servers: set, source: 'settings' } : { servers: gateway, source: 'gateway' };
    if (sys) return sys;
    return set.length ? { servers: set, source: 'settings' } : null;
  }

  /** Every non-loopback interface and every egress with settings. */
  show(): EgressDns[] {
    const settings = this.deps.policy().dnsResolvers ?? {};
    const names = new Set([
      ...this.deps
        .interfaces()
        .filter((i) => i.kind !== 'loopback')
        .map((i) => i.name),
      ...Object.keys(settings),
      ...this.known(),
    ]);
    return [...names].sort().map((egress) => this.one(egress));
  }

  one(egress: string): EgressDns {
    const set = this.deps.policy().dnsResolvers?.[egress] ?? [];
    const r = this.resolve(egress);
    const servers = r?.servers ?? [];
    return {
      egress,
      servers,
      source: r?.source ?? null,
      settings: set,
      redirected: servers.some((s) => isIP(s) !== 0),
    };
  }

  /** The user's servers for an egress ([] clears them), checked and saved in the policy. */
  set(asked: string, servers: string[]): EgressDns {
    const known = this.deps.interfaces().find((i) => i.name.toLowerCase() === asked.toLowerCase());
    const egress = known?.name ?? asked;
    if (known?.kind === 'loopback')
      throw new ApiError('BAD_REQUEST', `${egress} is the loopback interface, not an egress`);
    for (const s of servers) {
      if (!isIP(s)) throw new ApiError('BAD_REQUEST', `DNS server "${s}" is not an IPv4 or IPv6 address`);
      if (/^127\./.test(s) || s === '::1')
        throw new ApiError(
          'BAD_REQUEST',
          `DNS server ${s} is a loopback address; give a server the egress reaches, e.g. the one its network hands out`,
        );
    }
    const doc = this.deps.policy();
    const next = { ...(doc.dnsResolvers ?? {}) };
    if (servers.length) next[egress] = [...new Set(servers)];
    else delete next[egress];
    const { dnsResolvers: _old, ...rest } = doc;
    this.deps.commit(Object.keys(next).length ? { ...rest, dnsResolvers: next } : rest);
    this.deps.refresh();
    return this.one(egress);
  }

  private linkKey(): string {
    return this.links()
      .map((l) => `${l.name}#${l.index}`)
      .join(',');
  }

  private links(): { name: string; index: number }[] {
    return this.deps
      .interfaces()
      .filter((i) => i.kind !== 'loopback')
      .map((i) => ({ name: i.name, index: i.index }));
  }

  private read(): Promise<void> {
    this.reading ??= (async () => {
      try {
        this.readLinks = this.linkKey();
        const next = await (this.deps.readSystem ?? readSystemServers)(this.links());
        if (JSON.stringify(next) !== JSON.stringify(this.system)) {
          this.system = next;
          this.deps.refresh();
        }
      } catch (err) {
        this.deps.log(`dns: could not read the links' DNS servers: ${(err as Error).message}`);
      } finally {
        this.reading = null;
      }
    })();
    return this.reading;
  }
}
