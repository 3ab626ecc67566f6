import { describe, expect, it } from 'vitest';
import { parseConntrackLine } from './parse.ts';

// Lines as conntrack-tools 1.4.7 prints them (`-E -o timestamp,extended,id`, `-L -o extended,id`).
const NEW =
  '[1795740004.373400]\t    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=10.1.0.2 dst=198.51.100.10 sport=59626 dport=8080 [UNREPLIED] src=198.51.100.10 dst=10.1.0.2 sport=8080 dport=59626 mark=1510604805 id=2065821647';
const DESTROY =
  '[1795740005.398103]\t[DESTROY] ipv4     2 tcp      6 118 TIME_WAIT src=10.1.0.2 dst=198.51.100.10 sport=59626 dport=8080 packets=7 bytes=450 src=198.51.100.10 dst=10.1.0.2 sport=8080 dport=59626 packets=5 bytes=1545 [ASSURED] mark=1510604805 id=2065821647 [USERSPACE] portid=4291108160 progname=conntrack';
const ICMP_DUMP =
  'ipv4     2 icmp     1 28 src=127.0.0.1 dst=127.0.0.1 type=8 code=0 id=9765 packets=1 bytes=84 src=127.0.0.1 dst=127.0.0.1 type=0 code=0 id=9765 packets=1 bytes=84 mark=1510604805 use=1 id=1164763739';
const UDP6 =
  '[1795740006.000001]\t    [NEW] ipv6     10 udp      17 30 src=fd00:1::2 dst=2001:db8::10 sport=40000 dport=53 [UNREPLIED] src=2001:db8::10 dst=fd00:1::2 sport=53 dport=40000 mark=1510604806 id=77';

describe('parseConntrackLine', () => {
  it('reads a NEW event: time, tuple, state, mark and id, no counts yet', () => {
    const r = parseConntrackLine(NEW)!;
    expect(r).toMatchObject({
      type: 'NEW',
      at: 1795740004373,
      family: 4,
      protocol: 'tcp',
      state: 'SYN_SENT',
      mark: 1510604805,
      id: 2065821647,
    });
    expect(r.orig).toEqual({
      src: '10.1.0.2',
      dst: '198.51.100.10',
      sport: 59626,
      dport: 8080,
      packets: null,
      bytes: null,
    });
    expect(r.reply.src).toBe('198.51.100.10');
    expect(r.reply.dport).toBe(59626);
  });

  it('reads the counts of each direction from a DESTROY event', () => {
    const r = parseConntrackLine(DESTROY)!;
    expect(r.type).toBe('DESTROY');
    expect(r.state).toBe('TIME_WAIT');
    expect([r.orig.packets, r.orig.bytes, r.reply.packets, r.reply.bytes]).toEqual([7, 450, 5, 1545]);
    expect(r.id).toBe(2065821647);
  });

  it("takes the entry's id, not the ICMP echo id, from a dump line without ports", () => {
    const r = parseConntrackLine(ICMP_DUMP)!;
    expect(r.type).toBeNull();
    expect(r.at).toBeNull();
    expect(r.protocol).toBe('icmp');
    expect(r.id).toBe(1164763739);
    expect(r.orig.sport).toBeNull();
    expect(r.orig.dport).toBeNull();
    expect(r.orig.bytes).toBe(84);
  });

  it('reads IPv6 UDP with no state', () => {
    const r = parseConntrackLine(UDP6)!;
    expect(r).toMatchObject({ family: 6, protocol: 'udp', state: null, id: 77 });
    expect(r.orig.dst).toBe('2001:db8::10');
    expect(r.orig.dport).toBe(53);
  });

  it('ignores summaries, warnings and blank lines', () => {
    expect(
      parseConntrackLine('conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.'),
    ).toBeNull();
    expect(parseConntrackLine('WARNING: We have hit ENOBUFS! We are losing events.')).toBeNull();
    expect(parseConntrackLine('')).toBeNull();
    expect(parseConntrackLine(NEW.replace(/ id=\d+$/, ''))).toBeNull();
  });
});
