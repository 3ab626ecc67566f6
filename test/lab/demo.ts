// Switchyard on the lab: the lab, a real helper in its desktop namespace and the sample apps, ready for
// the UI or the CLI. `npm start` uses it when no helper runs on this machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LabGateway, startLabGateway } from '../integration/lab-gateway.ts';
import { Lab } from './lab.ts';
import { RunningHelper, SWITCHYARD } from './switchyard-helper.ts';

export interface LabSession {
  lab: Lab;
  helper: RunningHelper;
  /** Stop the helper (it cleans up) and take the lab down. */
  stop(): Promise<void>;
}

export async function startLabSession(
  opts: { prefix?: string; log?: (msg: string) => void } = {},
): Promise<LabSession> {
  const log = opts.log ?? console.log;
  log('No helper runs on this machine: starting Switchyard on the built-in lab (network namespaces only).');
  const lab = await Lab.up({ prefix: opts.prefix ?? 'sylab' });
  const helper = new RunningHelper(lab);
  const work = mkdtempSync(join(tmpdir(), 'sy-demo-'));
  let gateway: LabGateway | null = null;
  try {
    // Like a real desktop, names go through a resolved-like stub at 127.0.0.53, so the connection
    // history shows them. Before the apps start: a process reads resolv.conf when it starts.
    await lab.setSystemResolver('stub');
    await helper.start();
    // Each uplink's own resolver (its ISP's), as systemd-resolved would name them per link on a real
    // desktop: an app's lookups then leave through the app's egress, to that egress's resolver.
    for (const u of lab.uplinks) await helper.cli(['dns', 'set', u.ifname, u.v4.gateway, u.v6.gateway]);
    for (const name of lab.appNames) await lab.startApp(name);
    // Something to look at straight away: one app on Wi-Fi with a kill switch.
    await helper.cli(['egress', 'set', 'lab-chat', 'wlan0,enp3s0']);
    await helper.cli(['egress', 'set', 'lab-updater', 'wlan0', '--kill-switch']);
    gateway = await demoTunnel(lab, helper, work, log);
  } catch (err) {
    await gateway?.stop();
    await helper.stop().catch(() => {});
    await lab.down();
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
  log(`Lab up: uplinks wlan0 (Wi-Fi) and enp3s0 (Ethernet), helper socket ${helper.socket}.`);
  log(`Try the CLI meanwhile:  ${SWITCHYARD} apps --socket ${helper.socket}`);
  return {
    lab,
    helper,
    stop: async () => {
      await gateway?.stop();
      await helper.stop();
      await lab.down();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/**
 * A tunnel egress to the lab's gateway, which may carry every lab app and offers its resolver: the
 * tunnel learns it in the handshake (docs/dns.md). Best effort: the demo goes on without it.
 */
async function demoTunnel(
  lab: Lab,
  helper: RunningHelper,
  work: string,
  log: (msg: string) => void,
): Promise<LabGateway | null> {
  let gateway: LabGateway | null = null;
  try {
    const apps = JSON.parse((await helper.cli(['apps', '--json'])).stdout) as { tag: number }[];
    gateway = await startLabGateway(lab, work, {
      port: 51900,
      apps: apps.map((a) => ({ tag: a.tag, allow: ['0.0.0.0/0'] })),
    });
    await helper.cli(
      ['tunnel', 'add', 'sy-lab', '--gateway', `${lab.servers.gatewayV4}:51900`]
        .concat(['--gateway-key', gateway.gatewayPub, '--private-key-file', gateway.desktopKeyFile])
        .concat(['--address', '10.77.0.2/24']),
    );
    return gateway;
  } catch (err) {
    log(`(no demo tunnel: ${(err as Error).message})`);
    await gateway?.stop();
    return null;
  }
}
