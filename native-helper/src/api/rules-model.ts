// Encryption rules (seed 2), app groups and networks with their trust: the data the API carries.
// A rule decides per flow whether it is encrypted through a tunnel, sent in clear, or blocked.
import { addressValue, isIP } from './ip.ts';
import { z } from 'zod';
import { AppId, TunnelName } from './model.ts';

export const RuleId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'rule id: lowercase letters, digits and dashes (max 40)');
export type RuleId = z.infer<typeof RuleId>;

export const GroupName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$/,
    'group name: letters, digits, space, dot, dash or underscore (max 40), starting with a letter or digit',
  );
export type GroupName = z.infer<typeof GroupName>;

/** A key group inside a tunnel (per-group keys come with the tunnel's key groups). */
export const KeyGroupName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,23}$/, 'key group: lowercase letters, digits, dash or underscore (max 24)');

/** "198.18.0.0/15", "fd5a::/16", or one address (a /32 or /128). The address must be the network's. */
export const Destination = z.string().superRefine((t, ctx) => {
  const [address = '', length] = t.split('/');
  const family = isIP(address);
  const max = family === 4 ? 32 : 128;
  if (!family || (length !== undefined && !(/^\d{1,3}$/.test(length) && Number(length) <= max))) {
    ctx.addIssue({
      code: 'custom',
      message: `"${t}" is not a destination such as 198.18.0.0/15 or fd5a::/16`,
    });
    return;
  }
  const bits = length === undefined ? max : Number(length);
  if (addressValue(address) % (1n << BigInt(max - bits)) !== 0n)
    ctx.addIssue({
      code: 'custom',
      message: `"${t}" has host bits set; give the network (e.g. ${family === 4 ? '198.18.200.0/24' : 'fd5a::/16'}) or the single address without a prefix`,
    });
});

export const Trust = z.enum(['trusted', 'untrusted']);
export type Trust = z.infer<typeof Trust>;
export const TrustMatch = z.enum(['trusted', 'untrusted', 'any']);
export type TrustMatch = z.infer<typeof TrustMatch>;

export const Protocol = z.enum(['tcp', 'udp', 'any']);
export type Protocol = z.infer<typeof Protocol>;

export const PortRange = z
  .object({ from: z.number().int().min(1).max(65535), to: z.number().int().min(1).max(65535) })
  .strict()
  .refine((p) => p.from <= p.to, 'a port range runs from its lower port to its higher one');
export type PortRange = z.infer<typeof PortRange>;

export const RuleAction = z.discriminatedUnion('type', [
  /** Through the named tunnel; with the tunnel down the flow is blocked, never sent in clear. */
  z.object({ type: z.literal('encrypt'), tunnel: TunnelName, keyGroup: KeyGroupName.optional() }).strict(),
  /** The app's own egress choice. */
  z.object({ type: z.literal('clear') }).strict(),
  z.object({ type: z.literal('block') }).strict(),
]);
export type RuleAction = z.infer<typeof RuleAction>;

export const RuleSubject = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('app'), app: AppId }).strict(),
  z.object({ kind: z.literal('group'), group: GroupName }).strict(),
]);
export type RuleSubject = z.infer<typeof RuleSubject>;

export const RuleMatch = z
  .object({
    subject: RuleSubject,
    /** Empty: every destination. */
    destinations: z.array(Destination).max(64).default([]),
    /** Empty: every port. */
    ports: z.array(PortRange).max(32).default([]),
    protocol: Protocol.default('any'),
    /** The trust of the network the app's traffic leaves through. */
    network: TrustMatch.default('any'),
  })
  .strict();
export type RuleMatch = z.infer<typeof RuleMatch>;

/** Where a rule comes from, in the order layers are evaluated (the trust defaults come last). */
export const RuleOrigin = z.enum(['managed', 'event', 'user']);
export type RuleOrigin = z.infer<typeof RuleOrigin>;
export const RuleLayer = z.enum(['managed', 'event', 'user', 'default']);
export type RuleLayer = z.infer<typeof RuleLayer>;

export const Rule = z
  .object({
    id: RuleId,
    name: z.string().min(1).max(120),
    origin: RuleOrigin,
    /** ISO 8601. */
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    match: RuleMatch,
    action: RuleAction,
    /** Rules made by an event: what raised it. */
    event: z
      .object({
        source: z.string().max(80),
        reason: z.string().max(300),
        /** The event in force that made it, and the reaction template that said how. */
        id: z.string().optional(),
        template: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Rule = z.infer<typeof Rule>;

/** What a client sends to create a rule; the helper gives it an id, an origin and a creation time. */
export const RuleInput = z
  .object({
    name: z.string().min(1).max(120).optional(),
    match: RuleMatch,
    action: RuleAction,
    /** Seconds from now (at least 1 s, at most a year), or an absolute ISO time. */
    expiresIn: z
      .number()
      .int()
      .min(1)
      .max(366 * 86400)
      .optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .refine((r) => !(r.expiresIn && r.expiresAt), 'give expiresIn or expiresAt, not both');
export type RuleInput = z.input<typeof RuleInput>;

/** A rule as the API shows it: where it sits and what it matched so far. */
export const RuleView = Rule.extend({
  layer: RuleLayer,
  /** Position in the whole ordered list, from 1. */
  position: z.number().int(),
  locked: z.boolean(),
  stats: z.object({ flows: z.number(), packets: z.number(), bytes: z.number() }),
  /** Why the rule holds traffic or does nothing now, e.g. "tunnel sy-work is down: its flows are blocked". */
  problem: z.string().nullable(),
});
export type RuleView = z.infer<typeof RuleView>;

/** What happens when no rule matches, per trust level. */
export const TrustDefaults = z.object({ trusted: RuleAction, untrusted: RuleAction }).strict();
export type TrustDefaults = z.infer<typeof TrustDefaults>;

export const Group = z
  .object({
    name: GroupName,
    apps: z.array(AppId).max(4096),
    /** From the managed policy: locked. */
    managed: z.boolean(),
  })
  .strict();
export type Group = z.infer<typeof Group>;

/** What identifies the network an uplink is attached to. */
export const NetworkFingerprint = z
  .object({
    /** The default gateway's MAC address (lowercase, colon-separated). */
    gatewayMac: z.string().nullable(),
    /** The Wi-Fi network's name, when the uplink is wireless. */
    ssid: z.string().nullable(),
    /** The IPv4 (else IPv6) subnet the uplink's address is in, e.g. "198.18.1.0/24". */
    subnet: z.string().nullable(),
  })
  .strict();
export type NetworkFingerprint = z.infer<typeof NetworkFingerprint>;

export const NetworkId = z.string().regex(/^n-[0-9a-f]{12}$/, 'a network id looks like n-0123456789ab');

export const Network = z.object({
  id: NetworkId,
  name: z.string(),
  fingerprint: NetworkFingerprint,
  /** What the user (or the managed policy) said; null: never said, the default for unknown applies. */
  trust: Trust.nullable(),
  effectiveTrust: Trust,
  firstSeen: z.string(),
  lastSeen: z.string(),
  /** Uplinks attached to it now (empty for a network seen before). */
  interfaces: z.array(z.string()),
  managed: z.boolean(),
});
export type Network = z.infer<typeof Network>;

/** Whether a rule's subject is the app, itself or through a group (group names ignore case). */
export function ruleCoversApp(
  rule: { match: Pick<RuleMatch, 'subject'> },
  appId: string,
  groups: readonly { name: string; apps: readonly string[] }[],
): boolean {
  const s = rule.match.subject;
  if (s.kind === 'app') return s.app === appId;
  const g = groups.find((x) => x.name.toLowerCase() === s.group.toLowerCase());
  return !!g && g.apps.includes(appId);
}
