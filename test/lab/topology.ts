// The lab as data: namespaces, veth links, addresses, routes, filters, servers and sample apps.
// The engine (engine.ts) turns this description into `ip`/`sysctl`/`nft` commands; nothing else
// in the lab decides what the network looks like.
//
//   desktop ──wlan0── isp-a ──┐
//          ──enp3s0── isp-b ──┼── internet (servers on lo) ── gateway
//          ──…─────── isp-… ──┘

/** A namespace's job in the lab; the namespace is named `<prefix>-<role>`. */
export type Role = 'desktop' | 'internet' | 'gateway' | `isp-${string}`;

export interface NamespaceSpec {
  role: Role;
  sysctls: Record<string, string>;
  /** An nftables ruleset loaded into this namespace (never the host's). */
  nftables?: string;
}

export interface End {
  role: Role;
  ifname: string;
}

/** A veth pair created directly inside its two namespaces. */
export interface VethSpec {
  a: End;
  b: End;
}

export interface AddressSpec {
  role: Role;
  ifname: string;
  cidr: string;
}

export interface RouteSpec {
  role: Role;
  dst: string;
  via: string;
  dev: string;
  metric?: number;
}

/** A piece of network that is created in one go: the core, or one uplink. */
export interface Fragment {
  namespaces: NamespaceSpec[];
  veths: VethSpec[];
  addresses: AddressSpec[];
  routes: RouteSpec[];
}

export type UplinkKind = 'wifi' | 'ethernet' | 'wwan';

export interface UplinkSpec {
  /** Short id: a, b, c… (also the ISP namespace's suffix). */
  id: string;
  index: number;
  kind: UplinkKind;
  /** The uplink's interface name inside the desktop namespace. */
  ifname: string;
  /** The ISP side of the access link, inside the ISP namespace. */
  ispIfname: string;
  ispRole: Role;
  /** Route metric, like NetworkManager's defaults (ethernet 100, wifi 600, wwan 700). */
  metric: number;
  v4: { address: string; prefixLength: number; gateway: string; subnet: string };
  v6: { address: string; prefixLength: number; gateway: string; subnet: string };
}

export interface ServerSpec {
  name: string;
  role: Role;
  /** argv relative to the lab: `{node}` stands for node + tsx loader, paths are under test/lab. */
  argv: string[];
  /** A line the server prints once it listens; null when readiness is probed otherwise. */
  readyLine: string | null;
}

export interface AppSpec {
  /** Also the script name (apps/<name>.ts), the desktop-entry id and the icon name. */
  name: string;
  title: string;
  comment: string;
  iconColor: string;
  iconGlyph: string;
}

export interface Addresses {
  serversV4: string;
  serversV6: string;
  gatewayV4: string;
  gatewayV6: string;
  /** The name server the desktop uses (the internet's server address). */
  dnsV4: string;
  dnsV6: string;
}

export interface Ports {
  http: number;
  udpEcho: number;
  dns: number;
  iperf3: number;
}

export interface Topology {
  prefix: string;
  core: Fragment;
  uplinks: UplinkSpec[];
  uplinkFragments: Fragment[];
  servers: ServerSpec[];
  apps: AppSpec[];
  addresses: Addresses;
  ports: Ports;
}

export const MAX_UPLINKS = 6;

const UPLINK_KINDS: ReadonlyArray<{ kind: UplinkKind; ifname: string; metric: number }> = [
  { kind: 'wifi', ifname: 'wlan0', metric: 600 },
  { kind: 'ethernet', ifname: 'enp3s0', metric: 100 },
  { kind: 'wwan', ifname: 'wwan0', metric: 700 },
  { kind: 'ethernet', ifname: 'enp4s0', metric: 101 },
  { kind: 'wifi', ifname: 'wlan1', metric: 601 },
  { kind: 'wwan', ifname: 'wwan1', metric: 701 },
];

export const ADDRESSES: Addresses = {
  serversV4: '198.18.200.10',
  serversV6: 'fd5a:200::10',
  gatewayV4: '198.18.250.2',
  gatewayV6: 'fd5a:250::2',
  dnsV4: '198.18.200.10',
  dnsV6: 'fd5a:200::10',
};

export const PORTS: Ports = { http: 80, udpEcho: 7, dns: 53, iperf3: 5201 };

export const SAMPLE_APPS: AppSpec[] = [
  {
    name: 'lab-browser',
    title: 'Lab Browser',
    comment: 'Fetches a page every second over one keep-alive connection',
    iconColor: '#2f6fde',
    iconGlyph: 'B',
  },
  {
    name: 'lab-chat',
    title: 'Lab Chat',
    comment: 'Sends a UDP message every second',
    iconColor: '#1f9d55',
    iconGlyph: 'C',
  },
  {
    name: 'lab-updater',
    title: 'Lab Updater',
    comment: 'Looks up whoami.lab and checks for updates',
    iconColor: '#d97706',
    iconGlyph: 'U',
  },
];

const DAD_OFF = { 'net.ipv6.conf.all.accept_dad': '0', 'net.ipv6.conf.default.accept_dad': '0' };
const ROUTER = {
  ...DAD_OFF,
  'net.ipv4.ip_forward': '1',
  'net.ipv6.conf.all.forwarding': '1',
  'net.ipv4.conf.all.rp_filter': '0',
  'net.ipv4.conf.default.rp_filter': '0',
};

export function uplinkId(index: number): string {
  return String.fromCharCode('a'.charCodeAt(0) + index);
}

export function describeUplink(index: number): UplinkSpec {
  const kind = UPLINK_KINDS[index];
  if (!kind) throw new Error(`The lab supports at most ${MAX_UPLINKS} uplinks; ask for fewer.`);
  const n = index + 1;
  const id = uplinkId(index);
  return {
    id,
    index,
    kind: kind.kind,
    ifname: kind.ifname,
    ispIfname: 'cust0',
    ispRole: `isp-${id}`,
    metric: kind.metric,
    v4: { address: `198.18.${n}.2`, prefixLength: 24, gateway: `198.18.${n}.1`, subnet: `198.18.${n}.0/24` },
    v6: { address: `fd5a:${n}::2`, prefixLength: 64, gateway: `fd5a:${n}::1`, subnet: `fd5a:${n}::/64` },
  };
}

/** One uplink: its ISP namespace, the access link to the desktop and the transit link to the internet. */
export function uplinkFragment(u: UplinkSpec): Fragment {
  const n = u.index + 1;
  const transitV4 = { internet: `198.18.${100 + n}.1`, isp: `198.18.${100 + n}.2` };
  const transitV6 = { internet: `fd5a:100:${n}::1`, isp: `fd5a:100:${n}::2` };
  const toInternet = `isp-${u.id}`; // the internet namespace's side of the transit link
  return {
    namespaces: [{ role: u.ispRole, sysctls: ROUTER, nftables: sourceValidation(u) }],
    veths: [
      { a: { role: 'desktop', ifname: u.ifname }, b: { role: u.ispRole, ifname: u.ispIfname } },
      { a: { role: u.ispRole, ifname: 'wan0' }, b: { role: 'internet', ifname: toInternet } },
    ],
    addresses: [
      { role: 'desktop', ifname: u.ifname, cidr: `${u.v4.address}/${u.v4.prefixLength}` },
      { role: 'desktop', ifname: u.ifname, cidr: `${u.v6.address}/${u.v6.prefixLength}` },
      { role: u.ispRole, ifname: u.ispIfname, cidr: `${u.v4.gateway}/${u.v4.prefixLength}` },
      { role: u.ispRole, ifname: u.ispIfname, cidr: `${u.v6.gateway}/${u.v6.prefixLength}` },
      { role: u.ispRole, ifname: 'wan0', cidr: `${transitV4.isp}/24` },
      { role: u.ispRole, ifname: 'wan0', cidr: `${transitV6.isp}/64` },
      { role: 'internet', ifname: toInternet, cidr: `${transitV4.internet}/24` },
      { role: 'internet', ifname: toInternet, cidr: `${transitV6.internet}/64` },
    ],
    routes: [
      ...desktopDefaultRoutes(u),
      { role: u.ispRole, dst: '0.0.0.0/0', via: transitV4.internet, dev: 'wan0' },
      { role: u.ispRole, dst: '::/0', via: transitV6.internet, dev: 'wan0' },
      { role: 'internet', dst: u.v4.subnet, via: transitV4.isp, dev: toInternet },
      { role: 'internet', dst: u.v6.subnet, via: transitV6.isp, dev: toInternet },
    ],
  };
}

/** The desktop's default routes through one uplink (re-added when the uplink comes back up). */
export function desktopDefaultRoutes(u: UplinkSpec): RouteSpec[] {
  return [
    { role: 'desktop', dst: '0.0.0.0/0', via: u.v4.gateway, dev: u.ifname, metric: u.metric },
    { role: 'desktop', dst: '::/0', via: u.v6.gateway, dev: u.ifname, metric: u.metric },
  ];
}

// Like a real ISP (BCP 38), drop customer packets whose source is not the customer's subnet, so a
// server seeing an uplink's address proves the packet really left through that uplink.
function sourceValidation(u: UplinkSpec): string {
  return [
    'table inet lab_bcp38 {',
    '  chain prerouting {',
    '    type filter hook prerouting priority raw; policy accept;',
    `    iifname "${u.ispIfname}" meta nfproto ipv4 ip saddr != ${u.v4.subnet} drop`,
    `    iifname "${u.ispIfname}" meta nfproto ipv6 ip6 saddr != { ${u.v6.subnet}, fe80::/10, ::/128 } drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

function coreFragment(): Fragment {
  return {
    namespaces: [
      {
        role: 'desktop',
        sysctls: {
          ...DAD_OFF,
          // Loose reverse-path filtering (as systemd sets it): replies may arrive on a non-preferred uplink.
          'net.ipv4.conf.all.rp_filter': '2',
          'net.ipv4.conf.default.rp_filter': '2',
          // Keep IPv6 addresses while an uplink is down, as IPv4 does, so bringing it back is instant.
          'net.ipv6.conf.all.keep_addr_on_down': '1',
          'net.ipv6.conf.default.keep_addr_on_down': '1',
        },
      },
      { role: 'internet', sysctls: ROUTER },
      { role: 'gateway', sysctls: ROUTER },
    ],
    veths: [{ a: { role: 'internet', ifname: 'gw0' }, b: { role: 'gateway', ifname: 'eth0' } }],
    addresses: [
      { role: 'internet', ifname: 'lo', cidr: `${ADDRESSES.serversV4}/32` },
      { role: 'internet', ifname: 'lo', cidr: `${ADDRESSES.serversV6}/128` },
      { role: 'internet', ifname: 'gw0', cidr: '198.18.250.1/24' },
      { role: 'internet', ifname: 'gw0', cidr: 'fd5a:250::1/64' },
      { role: 'gateway', ifname: 'eth0', cidr: `${ADDRESSES.gatewayV4}/24` },
      { role: 'gateway', ifname: 'eth0', cidr: `${ADDRESSES.gatewayV6}/64` },
    ],
    routes: [
      { role: 'gateway', dst: '0.0.0.0/0', via: '198.18.250.1', dev: 'eth0' },
      { role: 'gateway', dst: '::/0', via: 'fd5a:250::1', dev: 'eth0' },
    ],
  };
}

function servers(): ServerSpec[] {
  const a = ADDRESSES;
  return [
    {
      name: 'lab-servers',
      role: 'internet',
      argv: [
        '{node}',
        'servers/main.ts',
        `--v4=${a.serversV4}`,
        `--v6=${a.serversV6}`,
        `--gateway-v4=${a.gatewayV4}`,
        `--gateway-v6=${a.gatewayV6}`,
        `--http-port=${PORTS.http}`,
        `--udp-echo-port=${PORTS.udpEcho}`,
        `--dns-port=${PORTS.dns}`,
      ],
      readyLine: 'lab-servers ready',
    },
    {
      name: 'iperf3',
      role: 'internet',
      argv: ['iperf3', '-s', '--forceflush', '-p', String(PORTS.iperf3)],
      readyLine: 'Server listening',
    },
    // resolved's stub stand-in: 127.0.0.53 → the default uplink's resolver (resolv.conf points here).
    { name: 'lab-stub', role: 'desktop', argv: ['{node}', 'servers/stub.ts'], readyLine: 'lab-stub ready' },
  ];
}

/**
 * The tunnel gateway's resolver, on the gateway's own addresses: a tunnel egress's lookups sent there
 * through the tunnel arrive from the tunnel address (`switchyard dns set sy-tun0 198.18.250.2`).
 */
export function gatewayResolverServer(): ServerSpec {
  const a = ADDRESSES;
  return {
    name: 'resolver-gw',
    role: 'gateway',
    argv: [
      '{node}',
      'servers/resolver.ts',
      '--name=gateway',
      `--listen=${a.gatewayV4}`,
      `--listen=${a.gatewayV6}`,
      `--servers-v4=${a.serversV4}`,
      `--servers-v6=${a.serversV6}`,
      `--gateway-v4=${a.gatewayV4}`,
      `--gateway-v6=${a.gatewayV6}`,
      `--port=${PORTS.dns}`,
    ],
    readyLine: 'lab-resolver ready',
  };
}

/** The ISP's own resolver on its customer-side addresses (the uplink's gateway), logging who asked. */
export function resolverServer(u: UplinkSpec): ServerSpec {
  const a = ADDRESSES;
  return {
    name: `resolver-${u.id}`,
    role: u.ispRole,
    argv: [
      '{node}',
      'servers/resolver.ts',
      `--name=${u.ispRole}`,
      `--listen=${u.v4.gateway}`,
      `--listen=${u.v6.gateway}`,
      `--servers-v4=${a.serversV4}`,
      `--servers-v6=${a.serversV6}`,
      `--gateway-v4=${a.gatewayV4}`,
      `--gateway-v6=${a.gatewayV6}`,
      `--port=${PORTS.dns}`,
    ],
    readyLine: 'lab-resolver ready',
  };
}

export function describeLab(prefix: string, uplinkCount: number): Topology {
  if (!Number.isInteger(uplinkCount) || uplinkCount < 1 || uplinkCount > MAX_UPLINKS) {
    throw new Error(`Uplinks must be a whole number from 1 to ${MAX_UPLINKS}; got ${uplinkCount}.`);
  }
  const uplinks = Array.from({ length: uplinkCount }, (_, i) => describeUplink(i));
  return {
    prefix,
    core: coreFragment(),
    uplinks,
    uplinkFragments: uplinks.map(uplinkFragment),
    servers: [...servers(), ...uplinks.map(resolverServer), gatewayResolverServer()],
    apps: SAMPLE_APPS,
    addresses: ADDRESSES,
    ports: PORTS,
  };
}

export const PREFIX_PATTERN = /^[a-z][a-z0-9]{1,11}$/;

export function checkPrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new Error(
      `Lab prefix "${prefix}" is invalid; use 2-12 lowercase letters or digits, starting with a letter.`,
    );
  }
  return prefix;
}

export function nsName(prefix: string, role: Role): string {
  return `${prefix}-${role}`;
}
