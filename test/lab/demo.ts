// Switchyard on the lab: the lab, a real helper in its desktop namespace and the sample apps, ready for
// the UI or the CLI. `npm start` uses it when no helper runs on this machine.
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
  try {
    // Like a real desktop, names go through a resolved-like stub at 127.0.0.53, so the connection
    // history shows them. Before the apps start: a process reads resolv.conf when it starts.
    await lab.setSystemResolver('stub');
    await helper.start();
    for (const name of lab.appNames) await lab.startApp(name);
    // Something to look at straight away: one app on Wi-Fi with a kill switch.
    await helper.cli(['egress', 'set', 'lab-chat', 'wlan0,enp3s0']);
    await helper.cli(['egress', 'set', 'lab-updater', 'wlan0', '--kill-switch']);
  } catch (err) {
    await helper.stop().catch(() => {});
    await lab.down();
    throw err;
  }
  log(`Lab up: uplinks wlan0 (Wi-Fi) and enp3s0 (Ethernet), helper socket ${helper.socket}.`);
  log(`Try the CLI meanwhile:  ${SWITCHYARD} apps --socket ${helper.socket}`);
  return {
    lab,
    helper,
    stop: async () => {
      await helper.stop();
      await lab.down();
    },
  };
}
