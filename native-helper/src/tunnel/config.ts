// The client tunnel's configuration (zod), as `switchyard tunnel add` would store it.
import { isIP } from 'node:net';
import { z } from 'zod';
import { decodeKey } from './keys.ts';

export const Base64Key = z.string().refine((k) => {
  try {
    decodeKey(k);
    return true;
  } catch {
    return false;
  }
}, 'a key is 44 characters of base64 (32 bytes); make one with `switchyard tunnel keygen`');

export const CidrText = z.string().refine((t) => {
  const [a, l] = t.split('/');
  const fam = isIP(a ?? '');
  const max = fam === 4 ? 32 : 128;
  return fam !== 0 && (l === undefined || (/^\d+$/.test(l) && Number(l) <= max));
}, 'an address or prefix such as 10.77.0.2/32 or 0.0.0.0/0');

/** One address (CIDR) or one per family, e.g. ["10.77.0.2/24", "fd77::2/64"]; always a list once parsed. */
export const AddressList = z
  .union([CidrText, z.array(CidrText).min(1).max(2)])
  .transform((a) => (typeof a === 'string' ? [a] : a))
  .refine(
    (list) => new Set(list.map((t) => isIP(t.split('/')[0]!))).size === list.length,
    'one address per family (IPv4, IPv6)',
  );

export const CipherChoice = z.enum(['auto', 'chacha20poly1305', 'aes256gcm']);

export const TunnelConfig = z
  .object({
    /** The TUN device name (also the egress name policies refer to). */
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'a tunnel name is an interface name of at most 15 characters'),
    privateKey: Base64Key,
    gateway: z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict(),
    gatewayPublicKey: Base64Key,
    /** This client's addresses inside the tunnel, e.g. 10.77.0.2/24 (and fd77::2/64). */
    address: AddressList,
    /** Default: 1413 over an IPv4 path, 1393 over IPv6 (1500 minus the tunnel's overhead). */
    mtu: z.number().int().min(576).max(1500).optional(),
    cipher: CipherChoice.default('auto'),
    /** Per app tag: the policy id and traffic class stamped on its packets. */
    apps: z
      .array(
        z
          .object({
            tag: z.number().int().min(0).max(0xffff),
            policyId: z.number().int().min(0).max(0xffffffff),
            trafficClass: z.number().int().min(0).max(255).default(0),
          })
          .strict(),
      )
      .max(4096)
      .default([]),
    /** Key groups, each with its own session (and keys) to the gateway; tags name them (setTags). */
    groups: z
      .array(
        z
          .string()
          .regex(/^[a-z0-9][a-z0-9_-]{0,23}$/, 'a key group: lowercase letters, digits, dash (max 24)'),
      )
      .max(16)
      .default([]),
    workers: z.number().int().min(1).max(16).optional(),
    offload: z.boolean().default(true),
    /** Run the data path in this network namespace (tests, or a helper that keeps tunnels apart). */
    netns: z.string().optional(),
    /** SO_MARK of the tunnel's own UDP sockets, so routing that captures unmarked traffic skips them. */
    udpMark: z.number().int().min(1).max(0xffffffff).optional(),
  })
  .strict();
export type TunnelConfig = z.infer<typeof TunnelConfig>;
export type TunnelConfigInput = z.input<typeof TunnelConfig>;
