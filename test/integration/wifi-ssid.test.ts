// The SSID of a Wi-Fi uplink (native/src/wifi.c): its nl80211 reply parser on hand-built bytes, and
// readSsid against the real kernel. Needs the built addon, not root. The test kernel has no cfg80211
// (no nl80211 family, no Wi-Fi interface, no mac80211_hwsim), so the real nl80211 query cannot be run
// end to end here: the kernel part covers the interfaces that are not Wi-Fi, the parser the replies.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import { native } from '../../native-helper/src/mechanism/native.ts';
import { readSsid } from '../../native-helper/src/mechanism/netlink/wifi.ts';

// <linux/netlink.h>, <linux/nl80211.h>
const NLMSG_ERROR = 2;
const NL80211_CMD_NEW_INTERFACE = 7;
const NL80211_ATTR_IFINDEX = 3;
const NL80211_ATTR_IFNAME = 4;
const NL80211_ATTR_IFTYPE = 5;
const NL80211_ATTR_SSID = 52;
const NL80211_IFTYPE_STATION = 2;
const NL80211_IFTYPE_AP = 3;
const NL80211_IFTYPE_P2P_CLIENT = 8;
const FAMILY = 0x1c; // nl80211's id is given out at boot; any id past the reserved ones will do

const le = endianness() === 'LE'; // netlink headers are in host byte order

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(n);
  else b.writeUInt16BE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeInt32LE(n | 0);
  else b.writeInt32BE(n | 0);
  return b;
}
const pad4 = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);

/** An nlattr: length, type, payload, padded to 4 bytes. */
function attr(type: number, payload: Buffer): Buffer {
  return pad4(Buffer.concat([u16(4 + payload.length), u16(type), payload]));
}

/** An nlmsghdr (length, type, flags, seq, pid) around body. */
function message(type: number, body: Buffer): Buffer {
  return pad4(Buffer.concat([u32(16 + body.length), u16(type), u16(0), u32(1), u32(0), body]));
}

/** A NL80211_CMD_NEW_INTERFACE reply, as the kernel answers NL80211_CMD_GET_INTERFACE. */
function reply(attrs: Buffer[]): Buffer {
  const genl = Buffer.from([NL80211_CMD_NEW_INTERFACE, 1, 0, 0]);
  return message(FAMILY, Buffer.concat([genl, ...attrs]));
}

/** A station's reply; ssid undefined: none (not connected). */
function station(ssid?: Buffer, iftype = NL80211_IFTYPE_STATION): Buffer {
  return reply([
    attr(NL80211_ATTR_IFINDEX, u32(3)),
    attr(NL80211_ATTR_IFNAME, Buffer.from('wlan0\0')), // 6 bytes: the next attribute starts after padding
    attr(NL80211_ATTR_IFTYPE, u32(iftype)),
    ...(ssid ? [attr(NL80211_ATTR_SSID, ssid)] : []),
  ]);
}

function nativeError(fn: () => unknown): { code?: string; syscall?: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; syscall?: string };
  }
  throw new Error('expected the call to throw');
}

describe('the nl80211 reply parser (hand-built replies)', () => {
  const find = (bytes: Buffer) => native().nl80211FindSsid(bytes);

  it('reads a UTF-8 SSID as text, after attributes that need padding', () => {
    expect(find(station(Buffer.from('Café ☕')))).toBe('Café ☕');
    expect(find(station(Buffer.from('Home'), NL80211_IFTYPE_P2P_CLIENT))).toBe('Home');
  });

  it('gives an SSID that is not UTF-8 as 0x and hex', () => {
    expect(find(station(Buffer.from([0x43, 0x61, 0x66, 0xe9])))).toBe('0x436166e9'); // Latin-1 "Café"
    expect(find(station(Buffer.from([0xff, 0xfe, 0x41])))).toBe('0xfffe41');
    expect(find(station(Buffer.from([0xc0, 0x80])))).toBe('0xc080'); // overlong NUL
    expect(find(station(Buffer.from([0xed, 0xa0, 0x80])))).toBe('0xeda080'); // a UTF-16 surrogate
    expect(find(station(Buffer.from([0x41, 0xe2, 0x98])))).toBe('0x41e298'); // cut mid-character
    expect(find(station(Buffer.from([0x41, 0x00, 0x42])))).toBe('0x410042'); // NUL inside
  });

  it('takes 32 bytes, the most an SSID has, and refuses 33', () => {
    expect(find(station(Buffer.alloc(32, 0xff)))).toBe(`0x${'ff'.repeat(32)}`);
    expect(find(station(Buffer.alloc(32, 'x')))).toBe('x'.repeat(32));
    expect(nativeError(() => find(station(Buffer.alloc(33, 'x')))).code).toBe('EBADMSG');
  });

  it('is null for a station not connected, an empty SSID and an access point', () => {
    expect(find(station())).toBeNull();
    expect(find(station(Buffer.alloc(0)))).toBeNull();
    expect(find(station(Buffer.from('MyHotspot'), NL80211_IFTYPE_AP))).toBeNull();
  });

  it("passes on the kernel's error reply, after an acknowledgement too", () => {
    const error = (errno: number) => message(NLMSG_ERROR, Buffer.concat([u32(errno), Buffer.alloc(16)]));
    expect(nativeError(() => find(error(-19)))).toMatchObject({ code: 'ENODEV', syscall: 'nl80211FindSsid' });
    expect(find(Buffer.concat([error(0), station(Buffer.from('Home'))]))).toBe('Home');
  });

  it('refuses bytes that are not a well-formed reply', () => {
    const good = station(Buffer.from('Home'));
    const attrTooLong = Buffer.from(good);
    u16(200).copy(attrTooLong, good.length - 8); // the SSID attribute's length field
    const broken: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['cut short', good.subarray(0, good.length - 4)],
      ['an attribute past its message', attrTooLong],
      ['no generic netlink header', message(FAMILY, Buffer.alloc(0))],
    ];
    for (const [what, bytes] of broken) expect(nativeError(() => find(bytes)).code, what).toBe('EBADMSG');
    expect(() => find('Home' as unknown as Buffer)).toThrow(/must be a Buffer/);
  });
});

describe('readSsid against the real kernel', () => {
  it('is null for lo, which is not Wi-Fi, without asking nl80211', async () => {
    expect(existsSync('/sys/class/net/lo')).toBe(true);
    expect(existsSync('/sys/class/net/lo/wireless') || existsSync('/sys/class/net/lo/phy80211')).toBe(false);
    await expect(readSsid('lo')).resolves.toBeNull();
  });

  it('names an interface that does not exist, with code ENODEV', async () => {
    const name = `sy${randomBytes(4).toString('hex')}`;
    const err = await readSsid(name).then(
      () => null,
      (e: unknown) => e as Error & { code?: string; cause?: { syscall?: string } },
    );
    expect(err?.message).toBe(
      `There is no network interface "${name}" here; \`ip link\` lists the ones there are.`,
    );
    expect(err?.code).toBe('ENODEV');
    expect(err?.cause?.syscall).toBe('wifiSsid: if_nametoindex');
    await expect(readSsid('x'.repeat(16))).rejects.toThrow(/1\.\.15 characters/);
  });
});
