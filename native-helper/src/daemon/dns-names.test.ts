import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { layoutFor, markFor, tagOfMark } from '../layout/kernel-layout.ts';
import { encodeReply } from '../mechanism/dns/dns-test-messages.ts';
import type { NflogPacket } from '../mechanism/dns/nflog-pcap.ts';
import type { NflogWatch } from '../mechanism/dns/nflog-watch.ts';
import { DnsNames, MIN_LIFE_MS, SLACK_MS } from './dns-names.ts';

const layout = layoutFor('unit', 5);
const APPS: Record<number, string> = { 1: 'browser', 2: 'chat' };

function names(opts: { perApp?: number; total?: number; watch?: NflogWatch | Error } = {}) {
  let now = 1_000_000;
  const problems: (string | null)[] = [];
  const n = new DnsNames(
    {
      layout,
      appOf: (mark) => APPS[tagOfMark(layout, mark) ?? 0] ?? null,
      problem: (m) => problems.push(m),
      log: () => {},
      now: () => now,
      watch: async () => {
        if (opts.watch instanceof Error) throw opts.watch;
        return opts.watch ?? fakeWatch();
      },
    },
    opts.perApp,
    opts.total,
  );
  return { n, problems, advance: (ms: number) => (now += ms), at: () => now };
}

function fakeWatch(): NflogWatch & EventEmitter {
  const w = new EventEmitter() as NflogWatch & EventEmitter;
  Object.assign(w, { pid: 1, stop: async () => {} });
  return w;
}

const reply = (name: string, address: string, ttl = 60) =>
  encodeReply(name, [{ name, type: address.includes(':') ? 'AAAA' : 'A', address, ttl }]);

/** The reply in a UDP datagram from port 53, as the NFLOG copy carries it. */
function udpPacket(message: Buffer): Buffer {
  const ip = Buffer.alloc(28);
  ip[0] = 0x45;
  ip.writeUInt16BE(28 + message.length, 2);
  ip[9] = 17;
  ip.writeUInt16BE(53, 20);
  return Buffer.concat([ip, message]);
}

describe('DnsNames', () => {
  it("names an address by the app's own lookup only: another app's, or an address not answered, has none", () => {
    const { n, at } = names();
    n.reply(markFor(layout, 1), reply('server.lab', '198.18.0.10'), at());
    expect(n.nameOf('browser', '198.18.0.10')).toBe('server.lab');
    expect(n.nameOf('chat', '198.18.0.10')).toBeNull();
    expect(n.nameOf('browser', '198.18.0.11')).toBeNull();
    // Not our mark: ignored.
    n.reply(0x12345678, reply('other.lab', '192.0.2.1'), at());
    expect(n.size).toBe(1);
  });

  it('keeps a name max(TTL, 5 min)', () => {
    const { n, at, advance } = names();
    n.reply(markFor(layout, 1), reply('short.lab', '192.0.2.1', 5), at());
    n.reply(markFor(layout, 1), reply('long.lab', '192.0.2.2', 3600), at());
    advance(MIN_LIFE_MS - 1);
    expect(n.nameOf('browser', '192.0.2.1')).toBe('short.lab');
    advance(2);
    expect(n.nameOf('browser', '192.0.2.1')).toBeNull();
    expect(n.nameOf('browser', '192.0.2.2')).toBe('long.lab');
    advance(3600_000);
    expect(n.nameOf('browser', '192.0.2.2')).toBeNull();
    expect(n.size).toBe(0);
  });

  it('never names a connection that began before the lookup (beyond the capture slack)', () => {
    const { n, at } = names();
    const began = at();
    n.reply(markFor(layout, 1), reply('late.lab', '192.0.2.1'), began + SLACK_MS + 1);
    expect(n.nameOf('browser', '192.0.2.1', began)).toBeNull();
    expect(n.nameOf('browser', '192.0.2.1', began + SLACK_MS + 1)).toBe('late.lab');
    // A repeated answer keeps when the name was first seen.
    n.reply(markFor(layout, 1), reply('late.lab', '192.0.2.1'), began + 60_000);
    expect(n.nameOf('browser', '192.0.2.1', began + SLACK_MS + 1)).toBe('late.lab');
  });

  it('stays within its caps per app and in all, dropping the least recently used', () => {
    const { n, at } = names({ perApp: 3, total: 5 });
    for (let i = 1; i <= 4; i++) n.reply(markFor(layout, 1), reply(`n${i}.lab`, `192.0.2.${i}`), at());
    expect(n.size).toBe(3);
    expect(n.nameOf('browser', '192.0.2.1')).toBeNull();
    expect(n.nameOf('browser', '192.0.2.2')).toBe('n2.lab'); // used: now the most recent
    for (let i = 1; i <= 3; i++) n.reply(markFor(layout, 2), reply(`c${i}.lab`, `198.51.100.${i}`), at());
    expect(n.size).toBe(5);
    // The total cap took the browser's least recently used first.
    expect(n.nameOf('browser', '192.0.2.3')).toBeNull();
    expect(n.nameOf('browser', '192.0.2.2')).toBe('n2.lab');
    n.forgetApp('chat');
    expect(n.size).toBe(2);
  });

  it('learns from the NFLOG copies and from the forwarder, and says when it cannot read the group', async () => {
    const watch = fakeWatch();
    const { n, problems, at } = names({ watch });
    await n.start();
    expect(n.reading).toBe(true);
    expect(problems).toEqual([null]);
    const packet: NflogPacket = {
      at: at(),
      mark: markFor(layout, 2),
      payload: udpPacket(reply('chat.lab', 'fd5a::7')),
    };
    watch.emit('packet', packet);
    watch.emit('packet', { ...packet, payload: Buffer.from([0x45, 0, 0]) }); // not DNS: ignored
    expect(n.nameOf('chat', 'fd5a::7')).toBe('chat.lab');
    const forwarder = new EventEmitter();
    n.follow(forwarder);
    forwarder.emit('answer', { tag: 1, answer: reply('v6only.lab', '2001:db8::1') });
    expect(n.nameOf('browser', '2001:db8::1')).toBe('v6only.lab');

    const missing = names({ watch: new Error('spawn tcpdump ENOENT') });
    await missing.n.start();
    expect(missing.n.reading).toBe(false);
    expect(missing.problems[0]).toMatch(/need tcpdump.*ENOENT/);
  });
});
