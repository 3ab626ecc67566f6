// LAN access per app in the lab, with real packets: an app held by its kill switch (its only egress is
// absent) reaches a host on its uplink's subnet (the ISP's cust0 address) once LAN access is on, and
// nothing beyond it: the servers in the internet namespace see nothing of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../lab/lab.ts';
import { SWITCHYARD, type RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
import { PROBE_MATCHER, addresses, probeAs } from './support.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('LAN access per app in the lab (real packets)', () => {
  let lab: Lab;
  let helper: RunningHelper;

  /** One ping as the app: true when the host answered. */
  const pingAs = async (address: string) =>
    (
      await lab.run(
        'desktop',
        [
          SWITCHYARD,
          'run',
          '--app',
          'probe',
          '--socket',
          helper.socket,
          '--',
          'ping',
          '-c',
          '1',
          '-W',
          '2',
          address,
        ],
        { allowFailure: true },
      )
    ).code === 0;

  beforeAll(async () => {
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    helper = await startHelper(lab);
    await helper.cli(['app', 'add', '--name', 'Probe', '--id', 'probe', '--cmdline', PROBE_MATCHER]);
    // Its only egress is absent: the kill switch holds it.
    await helper.cli(['egress', 'set', 'probe', 'sy-absent', '--kill-switch', '--allow-absent']);
  });

  afterAll(async () => {
    await helper?.stop();
    await lab?.down();
  });

  it('holds the app everywhere without LAN access', async () => {
    expect(await pingAs(lab.uplink('wlan0').v4.gateway)).toBe(false);
  });

  it("reaches the uplink's subnet with LAN access on, and still nothing beyond it", async () => {
    const out = await helper.cli(['lan', 'probe', 'on']);
    expect(out.stdout).toContain('LAN access on');
    const app = JSON.parse((await helper.cli(['app', 'show', 'probe', '--json'])).stdout) as {
      lanAccess?: boolean;
    };
    expect(app.lanAccess).toBe(true);
    expect(await pingAs(lab.uplink('wlan0').v4.gateway)).toBe(true);
    expect(await pingAs(lab.uplink('enp3s0').v4.gateway)).toBe(true);
    expect(await pingAs(lab.uplink('enp3s0').v6.gateway)).toBe(true);
    // explain says it: the local host directly on the LAN although held, the server held.
    const local = (await helper.cli(['explain', 'probe', `${lab.uplink('wlan0').v4.gateway}:80`])).stdout;
    expect(local).toContain('verdict: egress via wlan0');
    expect(local).toMatch(
      /Probe has LAN access: \S+ is on wlan0's subnet \S+, so it goes out on the LAN directly by wlan0, allowed although its kill switch holds the rest of its traffic\./,
    );
    const v6 = (await helper.cli(['explain', 'probe', `[${lab.uplink('enp3s0').v6.gateway}]:80`])).stdout;
    expect(v6).toContain("is on enp3s0's subnet");
    const beyond = (await helper.cli(['explain', 'probe', `${lab.servers.v4}:80`])).stdout;
    expect(beyond).toContain('verdict: block');
    expect(beyond).not.toContain('LAN access');
    // The internet's servers see nothing of it (HTTP, UDP, v4, v6, DNS).
    const r = await probeAs(lab, helper, 'probe', 1500);
    expect(addresses(r)).toEqual([null, null, null, null, null]);
    expect(await pingAs(lab.servers.v4)).toBe(false);
  });

  it('holds it on the LAN again once LAN access is off', async () => {
    await helper.cli(['lan', 'probe', 'off']);
    expect(await pingAs(lab.uplink('wlan0').v4.gateway)).toBe(false);
  });
});
