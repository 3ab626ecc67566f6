// The gateway's configuration file (JSON), validated with zod.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { isIP } from '../api/ip.ts';
import { describeZodError } from '../api/schema.ts';
import { MAX_GATEWAY_RESOLVERS } from '../tunnel/handshake.ts';
import { AddressList, Base64Key, CidrText } from '../tunnel/config.ts';

const Name = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,32}$/, 'a name is 1-32 letters, digits, dot, dash or underscore');

export const GatewayApp = z
  .object({
    /** The app tag this peer may claim (the low 16 bits of the client's socket mark). */
    tag: z.number().int().min(0).max(0xffff),
    /** Destinations the app may reach through the gateway; "0.0.0.0/0" and "::/0" for all. */
    allow: z.array(CidrText).min(1).max(16),
    /** Which uplink carries it (the name of an entry in uplinks); the first uplink when omitted. */
    uplink: Name.optional(),
  })
  .strict();

/**
 * Peer slots the data path has (SY_MAX_PEERS in native/datapath/dp.h): one per peer and one per key
 * group of a peer. An idle slot costs a few hundred bytes, so this is far beyond what one gateway serves.
 */
export const GATEWAY_MAX_SLOTS = 4096;

export const GatewayPeer = z
  .object({
    name: Name,
    publicKey: Base64Key,
    /** The peer's addresses inside the tunnel; packets from other sources are dropped. */
    addresses: z.array(CidrText).min(1).max(8),
    apps: z.array(GatewayApp).max(64),
    /**
     * Key groups: each has its own session (and keys) with the peer, and carries only its own apps.
     * The peer's top-level apps go in its default session.
     */
    groups: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(/^[a-z0-9][a-z0-9_-]{0,23}$/, 'a key group: lowercase letters, digits, dash (max 24)'),
            apps: z.array(GatewayApp).max(64),
          })
          .strict(),
      )
      .max(16)
      .default([]),
  })
  .strict();
export type GatewayPeer = z.infer<typeof GatewayPeer>;
export type GatewayPeerInput = z.input<typeof GatewayPeer>;

export const GatewayConfig = z
  .object({
    /** Scopes the gateway's nft table, so several gateways never collide. */
    instance: Name.default('default'),
    privateKey: Base64Key,
    listenPort: z.number().int().min(1).max(65535),
    tunName: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,15}$/)
      .default('sygw0'),
    /** The gateway's own tunnel address and the tunnel subnet, e.g. 10.77.0.1/24, or one per family. */
    address: AddressList,
    mtu: z.number().int().min(576).max(1500).default(1419),
    /**
     * The resolvers this gateway offers its peers, reachable through the tunnel (e.g. its own tunnel
     * address, or a resolver beyond it); sent in the handshake response (PROTOCOL.md, "Resolvers").
     */
    dns: z
      .array(z.string().refine((a) => isIP(a) !== 0, 'a resolver is an IPv4 or IPv6 address, e.g. 10.77.0.1'))
      .max(MAX_GATEWAY_RESOLVERS, `a gateway offers at most ${MAX_GATEWAY_RESOLVERS} resolvers`)
      .default([]),
    uplinks: z
      .array(z.object({ name: Name, interface: z.string().regex(/^[A-Za-z0-9_.@:-]{1,15}$/) }).strict())
      .min(1)
      .max(8),
    peers: z.array(GatewayPeer).max(GATEWAY_MAX_SLOTS),
    /** Turn on IP forwarding in the gateway's network namespace (needed to forward at all). */
    enableForwarding: z.boolean().default(true),
    preferAes: z.boolean().default(true),
    workers: z.number().int().min(1).max(16).optional(),
    offload: z.boolean().default(true),
    netns: z.string().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const uplinks = new Set(c.uplinks.map((u) => u.name));
    const keys = new Set<string>();
    const slots = c.peers.reduce((n, p) => n + 1 + p.groups.length, 0);
    if (slots > GATEWAY_MAX_SLOTS)
      ctx.addIssue({
        code: 'custom',
        path: ['peers'],
        message: `${c.peers.length} peers with their key groups need ${slots} slots; a gateway has ${GATEWAY_MAX_SLOTS} (one per peer and one per key group)`,
      });
    c.peers.forEach((p, i) => {
      if (keys.has(p.publicKey))
        ctx.addIssue({
          code: 'custom',
          path: ['peers', i, 'publicKey'],
          message: 'two peers share one public key',
        });
      keys.add(p.publicKey);
      p.apps.forEach((a, j) => {
        if (a.uplink && !uplinks.has(a.uplink))
          ctx.addIssue({
            code: 'custom',
            path: ['peers', i, 'apps', j, 'uplink'],
            message: `no uplink named ${a.uplink}`,
          });
      });
      const names = new Set<string>();
      p.groups.forEach((g, k) => {
        if (names.has(g.name))
          ctx.addIssue({
            code: 'custom',
            path: ['peers', i, 'groups', k, 'name'],
            message: `group ${g.name} appears twice`,
          });
        names.add(g.name);
        g.apps.forEach((a, j) => {
          if (a.uplink && !uplinks.has(a.uplink))
            ctx.addIssue({
              code: 'custom',
              path: ['peers', i, 'groups', k, 'apps', j, 'uplink'],
              message: `no uplink named ${a.uplink}`,
            });
        });
      });
    });
  });
export type GatewayConfig = z.infer<typeof GatewayConfig>;
export type GatewayConfigInput = z.input<typeof GatewayConfig>;

export function parseGatewayConfig(value: unknown, source = 'gateway config'): GatewayConfig {
  const r = GatewayConfig.safeParse(value);
  if (!r.success) throw new Error(`${source}: ${describeZodError(r.error)}`);
  return r.data;
}

export async function loadGatewayConfig(path: string): Promise<GatewayConfig> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read the gateway config ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseGatewayConfig(json, path);
}
