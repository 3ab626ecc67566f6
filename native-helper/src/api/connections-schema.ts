// What each app talks to: its recent connections as the helper saw them in conntrack (issue 17).
// schema.ts spreads these into `methods` and `events`.
import { z } from 'zod';
import { method } from './method.ts';
import { AppId, EgressName } from './model.ts';

/** What decided where the connection went: an encryption rule, the app's egress choice, its kill switch. */
export const DecidedBy = z.object({
  kind: z.enum(['rule', 'egress-choice', 'kill-switch', 'system']),
  /** The rule's id (kind rule), else null. */
  ruleId: z.string().nullable(),
  /** In words: the rule's name, "egress choice", "kill switch", "system routing". */
  name: z.string(),
});
export type DecidedBy = z.infer<typeof DecidedBy>;

export const Connection = z.object({
  /** The kernel's conntrack id: stable while the entry lives. */
  key: z.string(),
  app: AppId,
  family: z.union([z.literal(4), z.literal(6)]),
  /** tcp, udp, icmp, icmpv6… */
  protocol: z.string().max(16),
  /** The remote address. */
  destination: z.string(),
  /** The name the app looked up for it, when the helper saw the lookup; null otherwise (never guessed). */
  name: z.string().nullable(),
  /** Remote port; null for protocols without ports. */
  port: z.number().int().min(0).max(65535).nullable(),
  /** The local address it left from. */
  source: z.string(),
  /** Its local port; null for protocols without ports. */
  sourcePort: z.number().int().min(0).max(65535).nullable(),
  /** The interface it went out of; null when none of the helper's interfaces holds its source. */
  egress: EgressName.nullable(),
  /** Bytes and packets at the IP layer (headers included); null until the kernel has counted them. */
  txBytes: z.number().nullable(),
  rxBytes: z.number().nullable(),
  txPackets: z.number().nullable(),
  rxPackets: z.number().nullable(),
  /** ISO 8601. */
  startedAt: z.string(),
  /** When it ended (TCP closed, or the kernel forgot it); null while open. */
  endedAt: z.string().nullable(),
  /** open; closed (ended, counts may still move a little); gone (the kernel forgot it: counts final). */
  state: z.enum(['open', 'closed', 'gone']),
  decidedBy: DecidedBy,
});
export type Connection = z.infer<typeof Connection>;

export const ConnectionList = z.object({
  connections: z.array(Connection),
  /** False when the helper cannot watch connections now; `problem` says why. */
  tracking: z.boolean(),
  problem: z.string().nullable(),
});
export type ConnectionList = z.infer<typeof ConnectionList>;

export const connectionMethods = {
  'connections.list': method(
    z
      .object({
        app: AppId.optional(),
        limit: z.number().int().min(1).max(1000).default(100),
      })
      .strict(),
    ConnectionList,
    'read',
    "The most recent connections, newest first: one app's, or every app's.",
  ),
} as const;

export const connectionEvents = {
  /** New connections were seen (at most one event a second). */
  'connections.added': z.object({ apps: z.array(AppId), count: z.number().int() }),
} as const;
