// The API of `switchyard gateway`: its peers, changed at run time. schema.ts spreads these into
// `methods`; a desktop helper answers them UNAVAILABLE.
import { z } from 'zod';
import { NoParams, Ok, method } from './method.ts';
import { isIP } from './ip.ts';
import { WireKey } from './model.ts';
import { KeyGroupName } from './rules-model.ts';

const PeerName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,32}$/, 'a peer name is 1-32 letters, digits, dot, dash or underscore');

const GatewayApp = z
  .object({
    tag: z.number().int().min(0).max(0xffff),
    allow: z
      .array(z.lazy(() => Cidr))
      .min(1)
      .max(16),
    uplink: PeerName.optional(),
  })
  .strict();

const Cidr = z.string().refine((t) => {
  const [a, l] = t.split('/');
  const family = isIP(a ?? '');
  return family !== 0 && (l === undefined || (/^\d+$/.test(l) && Number(l) <= (family === 4 ? 32 : 128)));
}, 'an address or prefix such as 10.77.0.2/32 or 0.0.0.0/0');

/** A peer as the gateway's config file has it (gateway/config.ts checks the rest, e.g. uplink names). */
export const GatewayPeerSpec = z
  .object({
    name: PeerName,
    publicKey: WireKey,
    addresses: z.array(Cidr).min(1).max(8),
    apps: z.array(GatewayApp).max(64),
    /** Key groups: a session (and keys) each, carrying only their own apps. */
    groups: z
      .array(z.object({ name: KeyGroupName, apps: z.array(GatewayApp).max(64) }).strict())
      .max(16)
      .optional(),
  })
  .strict();
export type GatewayPeerSpec = z.infer<typeof GatewayPeerSpec>;

export const gatewayMethods = {
  'gateway.peers.list': method(
    NoParams,
    z.array(GatewayPeerSpec),
    'read',
    "Gateway mode: the gateway's peers.",
  ),
  'gateway.peers.set': method(
    GatewayPeerSpec,
    Ok,
    'write',
    'Gateway mode: add a peer, or replace the one of that name (its sessions end at once); saved to the config.',
  ),
  'gateway.groups.revoke': method(
    z.object({ peer: PeerName, group: KeyGroupName }).strict(),
    z.object({ sessionsEnded: z.number().int() }),
    'write',
    "Gateway mode: revoke one key group of a peer: its session ends at once, the peer's other groups go on.",
  ),
  'gateway.peers.remove': method(
    z.object({ name: PeerName }).strict(),
    z.object({ sessionsEnded: z.number().int() }),
    'write',
    'Gateway mode: remove a peer; its sessions end at once and it can no longer handshake; saved to the config.',
  ),
} as const;
