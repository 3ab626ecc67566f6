// The data the API carries: apps, interfaces, tunnels, status. schema.ts re-exports all of it.
import { z } from 'zod';
import { isIP } from './ip.ts';

// ---------- identities ----------

export const AppId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'app id: lowercase letters, digits, dot, dash, underscore (max 64)');
export type AppId = z.infer<typeof AppId>;

/** An egress is named by its interface name (IFNAMSIZ = 16 incl. NUL) or, later, a tunnel name. */
export const EgressName = z
  .string()
  .regex(/^[A-Za-z0-9_.:@-]{1,15}$/, 'egress: an interface or tunnel name of at most 15 characters');
export type EgressName = z.infer<typeof EgressName>;

// ---------- apps ----------

export const AppMatcher = z
  .object({
    /** Absolute executable paths; a process matches when /proc/PID/exe is one of them. */
    exe: z.array(z.string().startsWith('/', 'exe paths must be absolute')).max(32).optional(),
    /** XDG desktop-entry id, e.g. "org.mozilla.firefox.desktop". */
    desktopId: z.string().min(1).max(255).optional(),
    /** Flatpak application id, matched from /proc/PID/root/.flatpak-info or the cgroup name. */
    flatpakId: z.string().min(1).max(255).optional(),
    /** A regular expression tested against the NUL-joined-by-space command line. */
    cmdline: z.string().min(1).max(512).optional(),
  })
  .strict()
  .refine((m) => m.exe?.length || m.desktopId || m.flatpakId || m.cmdline, {
    message: 'an app needs at least one matcher: exe, desktopId, flatpakId or cmdline',
  });
export type AppMatcher = z.infer<typeof AppMatcher>;

export const AppSource = z.enum(['desktop', 'flatpak', 'process', 'manual']);
export type AppSource = z.infer<typeof AppSource>;

export const EgressChoice = z.discriminatedUnion('mode', [
  /** Leave the app on the system's own routing. */
  z.object({ mode: z.literal('default') }).strict(),
  /** Drop everything the app sends. */
  z.object({ mode: z.literal('block') }).strict(),
  /** First available egress wins; with killSwitch, nothing leaves when none is available. */
  z
    .object({
      mode: z.literal('ordered'),
      egresses: z.array(EgressName).min(1).max(8),
      killSwitch: z.boolean(),
    })
    .strict(),
]);
export type EgressChoice = z.infer<typeof EgressChoice>;

/** Where an app's traffic goes right now, as the helper computed it. */
export const EgressState = z.enum([
  'default', // system routing
  'routed', // first choice is up and used
  'failed-over', // a later choice in the list is used
  'fallback-default', // none of the list is up, no kill switch: system routing
  'killed', // none of the list is up and the kill switch drops traffic
  'blocked', // the user chose block
  'paused', // all policies paused by the user
]);
export type EgressState = z.infer<typeof EgressState>;

/**
 * Which traffic the helper routes: include (only the apps given a choice; the default) or exclude
 * (everything not managed goes through `via`, the managed apps keep their own choices; with killSwitch
 * it leaves by no other interface while `via` is down). See docs/egress.md.
 */
export const PolicyMode = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('include') }).strict(),
  z.object({ kind: z.literal('exclude'), via: EgressName, killSwitch: z.boolean() }).strict(),
]);
export type PolicyMode = z.infer<typeof PolicyMode>;

/** A program running now, for "Add app… from a running process": one entry per executable. */
export const RunningProgram = z.object({
  exe: z.string(),
  /** The command line of one of its processes (cut at 300 characters). */
  cmdline: z.string(),
  /** How many processes run it, and the real uid of one of them. */
  processes: z.number().int(),
  uid: z.number().int().nullable(),
  /** The app that claims it already, or null. */
  app: z.string().nullable(),
});
export type RunningProgram = z.infer<typeof RunningProgram>;

export const App = z.object({
  id: AppId,
  name: z.string(),
  /** A data: URL or absolute path of an icon file, resolved from the icon theme. */
  icon: z.string().nullable(),
  source: AppSource,
  matchers: AppMatcher,
  /** The socket tag (SO_MARK low bits) given to this app. Stable for the life of the policy. */
  tag: z.number().int().min(1).max(0xffff),
  choice: EgressChoice,
  /** True when the managed policy pins this app's choice; the user cannot change it. */
  managed: z.boolean(),
  /** Processes currently in the app's cgroup. */
  pids: z.array(z.number().int()),
  egress: z.object({
    state: EgressState,
    /** The egress in use, or null for default/blocked/killed. */
    active: EgressName.nullable(),
  }),
  counters: z.object({
    txBytes: z.number(),
    rxBytes: z.number(),
    txRate: z.number(),
    rxRate: z.number(),
  }),
  /** Where it gets its updates (a flagged app may still reach them); absent when none are set. */
  updateServers: z.array(z.string()).optional(),
  /** Its local networks stay reachable under its kill switch (uplinks' subnets, link-local, mDNS). */
  lanAccess: z.boolean().optional(),
  /** Flags from security tools and quarantines in force; their rules hold the app's traffic. */
  held: z.array(
    z.object({
      event: z.string(),
      kind: z.enum(['flagged', 'quarantined']),
      source: z.string(),
      reason: z.string(),
      severity: z.enum(['low', 'high']),
      since: z.string(),
      /** When it ends by itself; null: when cleared. */
      until: z.string().nullable(),
    }),
  ),
});
export type App = z.infer<typeof App>;

// ---------- interfaces (egresses) ----------

export const Address = z.object({
  family: z.union([z.literal(4), z.literal(6)]),
  address: z.string(),
  prefixLength: z.number().int(),
});
export type Address = z.infer<typeof Address>;

export const WireguardPeerInfo = z.object({
  publicKey: z.string(),
  /** HOST:PORT, null when the peer has none yet. */
  endpoint: z.string().nullable(),
  allowedIps: z.array(z.string()),
  /** ISO time of the latest handshake; null when there has been none. */
  latestHandshake: z.string().nullable(),
});
export const WireguardInfo = z.object({
  publicKey: z.string().nullable(),
  listenPort: z.number().int().nullable(),
  peers: z.array(WireguardPeerInfo),
  /** Set while its peer does not answer (the egress is not usable): "wg0: peer not answering since 12:03". */
  problem: z.string().nullable().optional(),
});
export type WireguardInfo = z.infer<typeof WireguardInfo>;

export const Interface = z.object({
  name: EgressName,
  index: z.number().int(),
  kind: z.enum(['ethernet', 'wifi', 'tunnel', 'wireguard', 'loopback', 'virtual', 'other']),
  up: z.boolean(),
  /** Up with carrier and a default route: apps may use it. */
  usable: z.boolean(),
  mac: z.string().nullable(),
  mtu: z.number().int(),
  addresses: z.array(Address),
  gateways: z.array(z.object({ family: z.union([z.literal(4), z.literal(6)]), address: z.string() })),
  /** The patent's "interface tag": the apps whose traffic this egress currently carries. */
  apps: z.array(AppId),
  counters: z.object({ txBytes: z.number(), rxBytes: z.number(), txRate: z.number(), rxRate: z.number() }),
  /** A WireGuard device (kind wireguard): its public key and peers; null when they could not be read. */
  wireguard: WireguardInfo.nullable().optional(),
});
export type Interface = z.infer<typeof Interface>;

// ---------- tunnels (seed 3): an encrypted egress to a Switchyard gateway ----------

export const TunnelName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'a tunnel name is an interface name of at most 15 characters');

export const WireKey = z
  .string()
  .regex(/^[A-Za-z0-9+/]{43}=$/, 'a key is 32 bytes in base64 (44 characters)');

/** A tunnel end's addresses inside the tunnel: one CIDR per family, e.g. 10.77.0.2/24 and fd77::2/64. */
export const TunnelAddresses = z
  .array(
    z.string().refine((t) => {
      const [a, l] = t.split('/');
      const family = isIP(a ?? '');
      return family !== 0 && (l === undefined || (/^\d+$/.test(l) && Number(l) <= (family === 4 ? 32 : 128)));
    }, 'an address such as 10.77.0.2/24 or fd77::2/64'),
  )
  .min(1)
  .max(2)
  .refine(
    (list) => new Set(list.map((t) => isIP(t.split('/')[0]!))).size === list.length,
    'one address per family (IPv4, IPv6)',
  );

export const Tunnel = z.object({
  name: TunnelName,
  /** HOST:PORT of the gateway. */
  gateway: z.string(),
  gatewayPublicKey: WireKey,
  /** This end's public key: give it to the gateway's operator. */
  publicKey: WireKey,
  addresses: z.array(z.string()),
  cipher: z.enum(['auto', 'chacha20poly1305', 'aes256gcm']),
  state: z.enum(['connecting', 'up', 'down']),
  problem: z.string().nullable(),
  /**
   * The resolvers its gateway offered in the last handshake (`switchyard gateway --dns`); [] none;
   * absent before a handshake said (or from a gateway too old to say).
   */
  gatewayDns: z.array(z.string()).optional(),
  /** Inner (IP) bytes sent and received through the tunnel by every session since it started. */
  txBytes: z.number().optional(),
  rxBytes: z.number().optional(),
  /** Key groups (logical networks) with a session of their own in this tunnel. */
  groups: z
    .array(
      z.object({
        name: z.string(),
        established: z.boolean(),
        /** The current session's handshake generation, and when it was made (ISO). */
        epoch: z.number().nullable(),
        since: z.string().nullable(),
        /** Inner bytes of this group's sessions only. */
        txBytes: z.number().optional(),
        rxBytes: z.number().optional(),
      }),
    )
    .optional(),
});
export type Tunnel = z.infer<typeof Tunnel>;

export const GatewayStats = z.object({
  counters: z.record(z.string(), z.number()),
  /** Bytes and packets per peer, app tag and policy id, as the packets' metadata claimed them. */
  accounting: z.array(
    z.object({
      peer: z.string(),
      tag: z.number(),
      policyId: z.number(),
      packets: z.number(),
      bytes: z.number(),
    }),
  ),
});
export type GatewayStats = z.infer<typeof GatewayStats>;

// ---------- status ----------

export const Actor = z.object({
  uid: z.number().int(),
  user: z.string(),
  /** 'api' for a socket client, 'managed' for the managed policy file, 'helper' for the helper itself. */
  via: z.enum(['api', 'managed', 'helper']),
});
export type Actor = z.infer<typeof Actor>;

export const Status = z.object({
  version: z.string(),
  apiVersion: z.number().int(),
  instance: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
  paused: z.boolean(),
  /** Global "send everything through…" override; null when off. */
  override: EgressName.nullable(),
  /** Include (only chosen apps) or exclude (everything else via one egress); absent: include. */
  mode: PolicyMode.optional(),
  cgroupRoot: z.string(),
  policyPath: z.string(),
  managedPolicyPath: z.string().nullable(),
  apps: z.object({ total: z.number().int(), managed: z.number().int(), running: z.number().int() }),
  /** Apps whose kill switch is dropping their traffic right now. */
  killed: z.array(AppId),
  /** Apps flagged by a security tool or quarantined. */
  held: z.array(AppId),
  health: z.enum(['ok', 'degraded']),
  problems: z.array(z.string()),
});
export type Status = z.infer<typeof Status>;

export const Explanation = z.object({
  app: AppId,
  destination: z.object({
    host: z.string(),
    address: z.string(),
    port: z.number().int(),
    protocol: z.enum(['tcp', 'udp']),
  }),
  verdict: z.enum(['egress', 'default', 'block']),
  egress: EgressName.nullable(),
  sourceAddress: z.string().nullable(),
  /** One human sentence: why this verdict. */
  reason: z.string(),
  /** The encryption rule that decided the flow, if one did (issue: rules). */
  rule: z
    .object({
      id: z.string(),
      name: z.string(),
      layer: z.enum(['managed', 'event', 'user', 'default']),
      action: z.enum(['encrypt', 'clear', 'block']),
      tunnel: z.string().nullable(),
    })
    .nullable()
    .optional(),
  /** The decision steps in order, for the curious. */
  steps: z.array(z.string()),
});
export type Explanation = z.infer<typeof Explanation>;
