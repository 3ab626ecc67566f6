// The encryption-rule commands' arguments: durations, ports, destinations, actions and trust, each
// checked here with an example of the right spelling, so nothing malformed reaches the helper.
import { isIP } from 'node:net';
import { AppId, TunnelName } from '../api/model.ts';
import {
  Destination,
  GroupName,
  KeyGroupName,
  NetworkId,
  RuleId,
  type PortRange,
  type RuleAction,
  type RuleInput,
  type Trust,
  type TrustMatch,
} from '../api/rules-model.ts';
import { type Parsed, UsageError, list, str } from './args.ts';

const UNIT_SECONDS = { d: 86400, h: 3600, m: 60, s: 1 } as const;
const MAX_EXPIRY_SECONDS = 366 * 86400;

/** "90s", "30m", "1h", "2h30m", "1d" → seconds (units largest first, each at most once). */
export function parseDuration(text: string, flag = '--expires'): number {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!text || !m)
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} is not a duration; write it like 90s, 30m, 1h, 2h30m or 1d`,
    );
  const [, d = '0', h = '0', min = '0', s = '0'] = m;
  const seconds =
    Number(d) * UNIT_SECONDS.d + Number(h) * UNIT_SECONDS.h + Number(min) * UNIT_SECONDS.m + Number(s);
  if (seconds < 1 || seconds > MAX_EXPIRY_SECONDS)
    throw new UsageError(
      `${flag} ${JSON.stringify(text)}: a rule expires between 1s and 366d from now, e.g. ${flag} 1h`,
    );
  return seconds;
}

/** "443" or "8000-8080" → a port range. */
export function parsePort(text: string): PortRange {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const example = 'e.g. --port 443 or --port 8000-8080 (one port or range per --port)';
  if (!m) throw new UsageError(`--port ${JSON.stringify(text)} is not a port or a range; ${example}`);
  const from = Number(m[1]);
  const to = Number(m[2] ?? m[1]);
  if (from < 1 || from > 65535 || to < 1 || to > 65535)
    throw new UsageError(`--port ${JSON.stringify(text)}: ports run from 1 to 65535, ${example}`);
  if (from > to)
    throw new UsageError(
      `--port ${JSON.stringify(text)}: a range goes from the lower port to the higher, e.g. --port ${to}-${from}`,
    );
  return { from, to };
}

/** A CIDR or one address, as the helper takes it; a network is written by its first address. */
export function parseDestination(text: string): string {
  const [address = '', length] = text.split('/');
  // Only the shape first: an address with host bits gets its own message below, naming the network.
  if (
    !Destination.safeParse(length === undefined ? address : `${address}/${family(address) === 4 ? 32 : 128}`)
      .success ||
    (length !== undefined &&
      !(/^\d{1,3}$/.test(length) && Number(length) <= (family(address) === 4 ? 32 : 128)))
  )
    throw new UsageError(
      `--dst ${JSON.stringify(text)} is not an address or network; e.g. --dst 198.18.0.0/15, --dst fd5a::/16 or --dst 198.18.200.10`,
    );
  const network = length === undefined ? address : networkAddress(address, Number(length));
  if (network !== address)
    throw new UsageError(
      `--dst ${JSON.stringify(text)} is an address inside a network; write --dst ${network}/${length} for the network or --dst ${address} for the one address`,
    );
  return text;
}

function family(address: string): number {
  return isIP(address);
}

/** The first address of address/length, written as canonically as the address family allows. */
function networkAddress(address: string, length: number): string {
  if (isIP(address) === 4) {
    const value = address.split('.').reduce((n, octet) => n * 256n + BigInt(octet), 0n);
    const masked = value & mask(32, length);
    return [24n, 16n, 8n, 0n].map((shift) => String((masked >> shift) & 255n)).join('.');
  }
  const masked = v6Value(address) & mask(128, length);
  return masked === v6Value(address) ? address : v6Text(masked);
}

function mask(bits: number, length: number): bigint {
  return ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - length)) - 1n);
}

function v6Value(address: string): bigint {
  // A trailing dotted quad (::ffff:198.18.0.1) is two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const text = quad
    ? address.slice(0, quad.index) +
      [Number(quad[1]) * 256 + Number(quad[2]), Number(quad[3]) * 256 + Number(quad[4])]
        .map((n) => n.toString(16))
        .join(':')
    : address;
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const missing = 8 - groups(head).length - groups(tail ?? '').length;
  const all = [
    ...groups(head),
    ...(tail === undefined ? [] : Array(missing).fill('0')),
    ...groups(tail ?? ''),
  ];
  return all.reduce((n, g) => (n << 16n) + BigInt(parseInt(g, 16)), 0n);
}

function v6Text(value: bigint): string {
  const groups = [...Array(8).keys()].map((i) => Number((value >> BigInt(16 * (7 - i))) & 0xffffn));
  // The longest run of two or more zero groups becomes "::" (RFC 5952).
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

const ACTION_EXAMPLE = 'encrypt:TUNNEL (e.g. encrypt:sy-tun0 or encrypt:sy-tun0/work), clear or block';

/** "encrypt:TUNNEL[/KEYGROUP]", "clear" or "block". */
export function parseAction(text: string | undefined, flag = '--action'): RuleAction {
  if (text === undefined) throw new UsageError(`missing ${flag}: give ${ACTION_EXAMPLE}`);
  if (text === 'clear' || text === 'block') return { type: text };
  const m = /^encrypt:([^/]*)(?:\/(.*))?$/.exec(text);
  if (!m) throw new UsageError(`${flag} ${JSON.stringify(text)} is not an action; give ${ACTION_EXAMPLE}`);
  const [, tunnel = '', keyGroup] = m;
  if (!TunnelName.safeParse(tunnel).success)
    throw new UsageError(
      `${flag} ${JSON.stringify(text)}: name the tunnel after encrypt: (an interface name of at most 15 characters), e.g. ${flag} encrypt:sy-tun0`,
    );
  if (keyGroup === undefined) return { type: 'encrypt', tunnel };
  if (!KeyGroupName.safeParse(keyGroup).success)
    throw new UsageError(
      `${flag} ${JSON.stringify(text)}: a key group is lowercase letters, digits, dash or underscore (max 24), e.g. ${flag} encrypt:${tunnel}/work`,
    );
  return { type: 'encrypt', tunnel, keyGroup };
}

/** The action as `switchyard rule add --action` spells it. */
export function actionSpec(a: RuleAction): string {
  if (a.type !== 'encrypt') return a.type;
  return `encrypt:${a.tunnel}${a.keyGroup ? `/${a.keyGroup}` : ''}`;
}

/** "trusted" or "untrusted"; `example` is a whole command line that works. */
export function parseTrust(text: string | undefined, what: string, example: string): Trust {
  if (text === 'trusted' || text === 'untrusted') return text;
  const given = text === undefined ? '' : ` (not ${JSON.stringify(text)})`;
  throw new UsageError(`${what}: say trusted or untrusted${given}, e.g. \`${example}\``);
}

function parseNetworkMatch(text: string | undefined): TrustMatch {
  if (text === undefined) return 'any';
  if (text === 'trusted' || text === 'untrusted' || text === 'any') return text;
  throw new UsageError(
    `--network ${JSON.stringify(text)}: give trusted, untrusted or any, e.g. --network untrusted`,
  );
}

function parseProtocol(text: string | undefined): 'tcp' | 'udp' | 'any' {
  if (text === undefined) return 'any';
  if (text === 'tcp' || text === 'udp') return text;
  throw new UsageError(`--proto ${JSON.stringify(text)}: give tcp or udp (leave it out for both)`);
}

export function checkRuleId(text: string | undefined, what: string): string {
  if (!text) throw new UsageError(`${what}: which rule? \`switchyard rules\` lists their ids`);
  if (!RuleId.safeParse(text).success)
    throw new UsageError(`${what}: ${JSON.stringify(text)} is not a rule id such as r-1a2b3c`);
  return text;
}

export function checkGroupName(text: string | undefined, what: string): string {
  if (!text) throw new UsageError(`${what}: name the group, e.g. \`switchyard group add work firefox\``);
  if (!GroupName.safeParse(text).success)
    throw new UsageError(
      `${what}: ${JSON.stringify(text)} is not a group name; use letters, digits, space, dot, dash or underscore (max 40), e.g. work`,
    );
  return text;
}

export function checkAppId(text: string, what: string): string {
  if (!AppId.safeParse(text).success)
    throw new UsageError(
      `${what}: ${JSON.stringify(text)} is not an app id; \`switchyard apps\` lists them (e.g. firefox)`,
    );
  return text;
}

export function checkNetworkId(text: string | undefined, what: string): string {
  if (!text) throw new UsageError(`${what}: which network? \`switchyard networks\` lists their ids`);
  if (!NetworkId.safeParse(text).success)
    throw new UsageError(`${what}: ${JSON.stringify(text)} is not a network id such as n-0123456789ab`);
  return text;
}

export const ruleAddOptions = {
  app: { type: 'string' },
  group: { type: 'string' },
  dst: { type: 'string', multiple: true },
  port: { type: 'string', multiple: true },
  proto: { type: 'string' },
  network: { type: 'string' },
  action: { type: 'string' },
  name: { type: 'string' },
  expires: { type: 'string' },
  before: { type: 'string' },
} as const;

/** `rule add`'s flags → the rules.add params. Every mistake is a UsageError, before any call. */
export function ruleAddRequest(p: Parsed): { rule: RuleInput; before?: string } {
  if (p.positionals.length)
    throw new UsageError(
      `rule add takes only flags, not ${JSON.stringify(p.positionals[0])}; e.g. \`switchyard rule add --app firefox --action clear\``,
    );
  const app = str(p, 'app');
  const group = str(p, 'group');
  if ((app === undefined) === (group === undefined))
    throw new UsageError(
      'rule add: give exactly one of --app APP or --group GROUP, e.g. --app firefox or --group work',
    );
  const subject =
    app !== undefined
      ? { kind: 'app' as const, app: checkAppId(app, '--app') }
      : { kind: 'group' as const, group: checkGroupName(group, '--group') };
  const name = str(p, 'name');
  if (name !== undefined && (name.length < 1 || name.length > 120))
    throw new UsageError('--name: 1 to 120 characters, e.g. --name "work mail through the tunnel"');
  const expires = str(p, 'expires');
  const before = str(p, 'before');
  return {
    rule: {
      ...(name !== undefined ? { name } : {}),
      match: {
        subject,
        destinations: list(p, 'dst').map(parseDestination),
        ports: list(p, 'port').map(parsePort),
        protocol: parseProtocol(str(p, 'proto')),
        network: parseNetworkMatch(str(p, 'network')),
      },
      action: parseAction(str(p, 'action')),
      ...(expires !== undefined ? { expiresIn: parseDuration(expires) } : {}),
    },
    ...(before !== undefined ? { before: checkRuleId(before, '--before') } : {}),
  };
}
