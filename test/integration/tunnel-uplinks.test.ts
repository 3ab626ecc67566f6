// Per-app uplinks at the gateway: the gateway has two uplinks to the server, and the server sees
// each app arrive from the address of the uplink the gateway config assigns it. The main table
// prefers the second uplink, so an app without an uplink arriving over the first proves it
// follows the config (the first uplink), not the main table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, output } from '../../native-helper/src/mechanism/exec.ts';
import { runGateway } from '../../native-helper/src/gateway/gateway.ts';
import { gatewayLayout, uplinkMark } from '../../native-helper/src/layout/kernel-layout.ts';
import { genkey, pubkey } from '../../native-helper/src/tunnel/keys.ts';
import {
  ADDR,
  OTHER_TAG,
  POLICY,
  TAG,
  createTunnelLab,
  markFor,
  startWhoAmIServer,
  withMark,
  type TunnelLab,
} from './tunnel-lab.ts';

const isRoot = process.getuid?.() === 0;
const THIRD_TAG = 0x0abc;
const ALT = { gateway: '198.18.93.1', server: '198.18.93.2' } as const;
/** The server's address beyond both uplinks: reachable only through a default route. */
const FAR = '198.18.95.1';

async function whoAmI(lab: TunnelLab, mark: number): Promise<string> {
  const r = await lab.sh(
    lab.ns.client,
    [...withMark(mark), 'socat', '-t', '5', '-T', '5', '-', `TCP:${FAR}:7000,connect-timeout=3`],
    { input: 'hello', allowFailure: true, timeoutMs: 8000 },
  );
  return r.stdout.trim();
}

const rulesOf = async (ns: string) => output(['ip', '-n', ns, 'rule', 'show']);

describe.skipIf(!isRoot)('gateway: each app leaves through its uplink', () => {
  let lab: TunnelLab;
  beforeAll(async () => {
    lab = await createTunnelLab({
      allowedTags: [
        { tag: TAG, allow: [`${FAR}/32`], uplink: 'alt' },
        { tag: OTHER_TAG, allow: [`${FAR}/32`], uplink: 'lan' },
        { tag: THIRD_TAG, allow: [`${FAR}/32`] },
      ],
      gateway: {
        uplinks: [
          { name: 'lan', interface: 'g1' },
          { name: 'alt', interface: 'g2' },
        ],
      },
      tunnel: {
        apps: [
          { tag: TAG, policyId: POLICY, trafficClass: 1 },
          { tag: OTHER_TAG, policyId: 7, trafficClass: 0 },
          { tag: THIRD_TAG, policyId: 8, trafficClass: 0 },
        ],
      },
      async beforeGateway(ns) {
        await run([
          'ip',
          'link',
          'add',
          'g2',
          'netns',
          ns.gateway,
          'type',
          'veth',
          'peer',
          'name',
          's1',
          'netns',
          ns.server,
        ]);
        const batch = (n: string, lines: string[]) =>
          run(['ip', '-n', n, '-batch', '-'], { input: lines.join('\n') + '\n' });
        await batch(ns.gateway, [
          `addr add ${ALT.gateway}/24 dev g2`,
          'link set g2 up',
          // Both uplinks have a default route; the main table prefers the second.
          `route add default via ${ADDR.server} dev g1 metric 200`,
          `route add default via ${ALT.server} dev g2 metric 100`,
        ]);
        await batch(ns.server, [
          `addr add ${ALT.server}/24 dev s1`,
          'link set s1 up',
          `addr add ${FAR}/32 dev lo`,
        ]);
      },
    });
    await lab.sh(lab.ns.client, [
      'ip',
      'rule',
      'add',
      'fwmark',
      String(markFor(THIRD_TAG)),
      'lookup',
      '100',
      'pref',
      '102',
    ]);
    await startWhoAmIServer(lab);
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('app 1 leaves through uplink 2, app 2 through uplink 1, an app without an uplink through the first', async () => {
    expect(lab.gateway.datapath.ready.flowmark).toBe(true);
    expect(await whoAmI(lab, markFor(TAG))).toBe(ALT.gateway);
    expect(await whoAmI(lab, markFor(OTHER_TAG))).toBe(ADDR.gatewayLan);
    expect(await whoAmI(lab, markFor(THIRD_TAG))).toBe(ADDR.gatewayLan);
    // Flows interleaved: each keeps its own uplink.
    const both = await Promise.all([whoAmI(lab, markFor(OTHER_TAG)), whoAmI(lab, markFor(TAG))]);
    expect(both).toEqual([ADDR.gatewayLan, ALT.gateway]);
    const acc = (await lab.gateway.stats()).accounting;
    for (const tag of [TAG, OTHER_TAG, THIRD_TAG])
      expect(acc.find((a) => a.peer === 'client' && a.tag === tag)?.packets ?? 0).toBeGreaterThan(0);
  });

  it('pings follow the app uplink too (flow key by echo id)', async () => {
    // Echo requests leaving each uplink, counted in a table of the lab's own gateway namespace.
    await lab.sh(lab.ns.gateway, ['nft', '-f', '-'], {
      input: [
        'table inet sytcount {',
        '  chain post {',
        '    type filter hook postrouting priority 0; policy accept;',
        '    oifname "g1" icmp type echo-request counter',
        '    oifname "g2" icmp type echo-request counter',
        '  }',
        '}',
      ].join('\n'),
    });
    const counts = async () => {
      const json = JSON.parse(
        await output([
          'ip',
          'netns',
          'exec',
          lab.ns.gateway,
          'nft',
          '-j',
          'list',
          'table',
          'inet',
          'sytcount',
        ]),
      ) as {
        nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[];
      };
      const [g1, g2] = json.nftables.flatMap((o) =>
        o.rule ? [o.rule.expr.find((e) => e.counter)!.counter!.packets] : [],
      );
      return { g1, g2 };
    };
    const ping = (mark: number) =>
      lab.sh(lab.ns.client, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '-m', String(mark), FAR], {
        allowFailure: true,
      });
    expect((await ping(markFor(TAG))).code).toBe(0);
    expect(await counts()).toEqual({ g1: 0, g2: 3 });
    expect((await ping(markFor(OTHER_TAG))).code).toBe(0);
    expect((await ping(markFor(THIRD_TAG))).code).toBe(0);
    expect(await counts()).toEqual({ g1: 6, g2: 3 });
  });

  it('an app assigned an uplink without a default route is refused with a clear error, leaving nothing', async () => {
    const instance = `u${lab.ns.gateway.slice(3)}`;
    const rulesBefore = await rulesOf(lab.ns.gateway);
    await expect(
      runGateway({
        instance,
        privateKey: genkey(),
        listenPort: 51821,
        tunName: 'sygw1',
        address: '198.19.78.1/24',
        uplinks: [
          { name: 'lan', interface: 'g1' },
          { name: 'bare', interface: 'g0' },
        ],
        netns: lab.ns.gateway,
        peers: [
          {
            name: 'x',
            publicKey: pubkey(lab.keys.other),
            addresses: ['198.19.78.2/32'],
            apps: [{ tag: 1, allow: ['0.0.0.0/0'], uplink: 'bare' }],
          },
        ],
      }),
    ).rejects.toThrow(/uplink bare \(g0\) has no default route/);
    expect(await rulesOf(lab.ns.gateway)).toBe(rulesBefore);
    expect(await output(['ip', '-n', lab.ns.gateway, 'link', 'show'])).not.toContain('sygw1');
  });

  it('stopping the gateway removes its rules and tables', async () => {
    const instance = lab.gateway.config.instance;
    const marks = [0, 1].map((i) => String(uplinkMark(gatewayLayout(instance), i)));
    const v4 = await rulesOf(lab.ns.gateway);
    for (const m of marks) expect(v4).toContain(`lookup ${m}`);
    await lab.gateway.stop();
    for (const family of ['-4', '-6']) {
      const rules = await output(['ip', '-n', lab.ns.gateway, family, 'rule', 'show']);
      expect(rules).not.toMatch(/fwmark/);
      for (const m of marks)
        expect(
          (
            await run(['ip', '-n', lab.ns.gateway, family, 'route', 'show', 'table', m], {
              allowFailure: true,
            })
          ).stdout,
        ).toBe('');
    }
  });
});
