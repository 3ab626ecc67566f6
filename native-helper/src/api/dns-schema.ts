// Which DNS servers each egress's lookups go to (issue 17, docs/dns.md). schema.ts spreads these into
// `methods`.
import { z } from 'zod';
import { method } from './method.ts';
import { EgressName } from './model.ts';

/** 'gateway': a tunnel's gateway offered them in the handshake (`switchyard gateway --dns`). */
export const DnsSource = z.enum(['systemd-resolved', 'NetworkManager', 'settings', 'gateway']);
export type DnsSource = z.infer<typeof DnsSource>;

export const EgressDns = z.object({
  egress: EgressName,
  /** The servers the egress's apps' stub lookups are sent to, in order; [] when none is known. */
  servers: z.array(z.string()),
  /** Where they come from; null when none is known (its apps' lookups stay with the system stub). */
  source: DnsSource.nullable(),
  /** What the user set for it (used when the system names none; on a tunnel, before its gateway's), or []. */
  settings: z.array(z.string()),
  /** Its apps' stub lookups go to its servers (IPv4: DNAT; IPv6 only: the helper's forwarder; docs/dns.md). */
  redirected: z.boolean(),
});
export type EgressDns = z.infer<typeof EgressDns>;

export const dnsMethods = {
  'dns.show': method(
    z.object({}).strict(),
    z.object({ egresses: z.array(EgressDns) }),
    'read',
    "Each egress's DNS servers, where they come from, and whether its apps' lookups follow them.",
  ),
  'dns.set': method(
    z
      .object({
        egress: EgressName,
        /** IPv4 or IPv6 addresses, at most 8; [] removes the setting. */
        servers: z.array(z.string().max(45)).max(8),
      })
      .strict(),
    EgressDns,
    'write',
    "Set the DNS servers of an egress the system names none for (a tunnel's gateway resolver); [] clears.",
  ),
} as const;
