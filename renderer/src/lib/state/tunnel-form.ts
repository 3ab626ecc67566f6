// The Add tunnel form: what the user typed, checked field by field with the API's own schema before
// it is sent, so each mistake is named next to its field in the form's words.
import { TunnelAddresses, TunnelName, WireKey } from '#switchyard/api/model.ts';
import type { ParamsIn } from '#switchyard/api/schema.ts';

export const CIPHERS = [
  { value: 'auto', label: 'Automatic' },
  { value: 'aes256gcm', label: 'AES-256-GCM' },
  { value: 'chacha20poly1305', label: 'ChaCha20-Poly1305' },
] as const;
export type Cipher = (typeof CIPHERS)[number]['value'];

export interface TunnelDraft {
  name: string;
  gateway: string;
  gatewayPublicKey: string;
  /** One or two addresses, separated by commas or spaces. */
  addresses: string;
  cipher: Cipher;
}

export type TunnelField = Exclude<keyof TunnelDraft, 'cipher'>;

export const TUNNEL_LABELS: Record<TunnelField, string> = {
  name: 'Name',
  gateway: 'Gateway',
  gatewayPublicKey: "Gateway's public key",
  addresses: 'Addresses in the tunnel',
};

export const emptyTunnelDraft = (): TunnelDraft => ({
  name: '',
  gateway: '',
  gatewayPublicKey: '',
  addresses: '',
  cipher: 'auto',
});

/** HOST:PORT, with an IPv6 host in brackets; the port 1–65535. */
export function gatewayProblem(text: string): string | null {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (!m) return 'write it as HOST:PORT, e.g. gw.example.net:51900 or [2001:db8::1]:51900';
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return 'the port is a number from 1 to 65535';
  return null;
}

function firstIssue(r: { success: boolean; error?: { issues: { message: string }[] } }): string | null {
  return r.success ? null : (r.error?.issues[0]?.message ?? 'not valid');
}

/** The params for tunnels.add, or what is wrong with each field. */
export function checkTunnel(
  d: TunnelDraft,
  taken: readonly string[],
): { params: ParamsIn<'tunnels.add'> } | { errors: Partial<Record<TunnelField, string>> } {
  const errors: Partial<Record<TunnelField, string>> = {};
  const name = d.name.trim();
  const gateway = d.gateway.trim();
  const key = d.gatewayPublicKey.trim();
  const addresses = d.addresses.split(/[\s,]+/).filter(Boolean);
  if (!name) errors.name = 'give the tunnel a name, e.g. sy-office';
  else if (taken.includes(name)) errors.name = `there is already a tunnel called ${name}`;
  else if (firstIssue(TunnelName.safeParse(name)))
    errors.name = 'at most 15 letters, digits, dots, dashes or underscores';
  if (!gateway) errors.gateway = 'where the gateway listens, as HOST:PORT';
  else {
    const p = gatewayProblem(gateway);
    if (p) errors.gateway = p;
  }
  if (!key) errors.gatewayPublicKey = "paste the key the gateway's operator gave you";
  else if (firstIssue(WireKey.safeParse(key)))
    errors.gatewayPublicKey = 'a key is 44 characters of base64 ending in "="';
  if (!addresses.length) errors.addresses = 'the address this end has inside the tunnel, e.g. 10.77.0.2/24';
  else {
    const p = firstIssue(TunnelAddresses.safeParse(addresses));
    if (p) errors.addresses = p;
  }
  if (Object.keys(errors).length) return { errors };
  return { params: { name, gateway, gatewayPublicKey: key, addresses, cipher: d.cipher } };
}
