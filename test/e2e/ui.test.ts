// End to end: Debian's chromium drives the real UI, served by the web bridge, talking to the real
// helper inside the lab; the lab's servers confirm where the traffic went.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  App,
  Interface,
  MethodName,
  ParamsIn,
  Result,
  Status,
} from '../../native-helper/src/api/schema.ts';
import { connectionMessage } from '../../native-helper/src/api/reconnecting-client.ts';
import { genkey, pubkey } from '../../native-helper/src/tunnel/keys.ts';
import { buildTrayModel } from '../../electron/tray-model.ts';
import type { Lab, RunningApp } from '../lab/lab.ts';
import type { RunningHelper } from '../lab/switchyard-helper.ts';
import { UiSession, cannotRun } from './harness.ts';
import { eventually } from '../integration/support.ts';

/** A non-zero live rate as the UI prints it ("839 B/s", "1.5 kB/s"). */
const LIVE_RATE = /(^|\s)[1-9][\d.]* ?[kMG]?(B|bit)\/s/m;

describe.skipIf(cannotRun)('the UI against the real helper in the lab', () => {
  const ui = new UiSession();
  let lab: Lab;
  let helper: RunningHelper;
  let page: Page;
  let app: RunningApp;
  const shot = (name: string) => ui.shot(name, { keepNotices: true });
  const ask = <M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Result<M>> =>
    ui.ask(method, params);
  const userRules = async () =>
    (await ask('rules.list', {})).rules.filter((r) => r.layer === 'user').map((r) => r.name);
  const helperState = async () => {
    const c = await helper.client();
    try {
      return {
        status: (await c.call('status.get', {})) as Status,
        apps: (await c.call('apps.list', {})) as App[],
        interfaces: (await c.call('interfaces.list', {})) as Interface[],
      };
    } finally {
      c.close();
    }
  };

  beforeAll(async () => {
    await ui.start();
    ({ lab, helper, page } = ui);
    app = await lab.startApp('lab-browser', { args: ['--interval-ms', '250'] });
  });

  afterAll(async () => {
    await app?.stop();
    await ui.stop();
  });

  it('shows a lab sample app with live traffic', async () => {
    await page.getByRole('link', { name: 'Apps' }).click();
    await page.getByRole('searchbox', { name: 'Search apps' }).fill('Lab Browser');
    const row = page.getByRole('listitem').filter({ hasText: 'Lab Browser' });
    await expect.poll(async () => row.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    // The live rate comes from the helper's counters: wait until it is not zero.
    await expect
      .poll(async () => LIVE_RATE.test(await row.first().innerText()), { timeout: 20_000 })
      .toBe(true);
    await shot('apps');
  });

  it('moves the app to another uplink when its egress is changed in the UI', async () => {
    const wifi = lab.uplink('wlan0');
    const onWifi = (a: string | null) => a === wifi.v4.address || a === wifi.v6.address;
    await page.getByRole('combobox', { name: 'Egress for Lab Browser' }).selectOption({ label: 'wlan0' });
    const log = await eventually(
      'lab-browser traffic through wlan0',
      () => app.readLog(),
      (l) => onWifi(l.at(-1)?.serverSawAddress ?? null),
    );
    expect(onWifi(log.at(-1)!.serverSawAddress)).toBe(true);
    const { apps, interfaces } = await helperState();
    expect(apps.find((a) => a.id === 'lab-browser')?.egress).toEqual({ state: 'routed', active: 'wlan0' });
    expect(interfaces.find((i) => i.name === 'wlan0')?.apps).toContain('lab-browser');

    await page.getByRole('link', { name: 'Interfaces' }).click();
    const wlan = page.getByRole('region', { name: 'wlan0' });
    await expect
      .poll(async () => (await wlan.innerText()).includes('Lab Browser'), { timeout: 15_000 })
      .toBe(true);
    await expect.poll(async () => wlan.locator('canvas').count()).toBeGreaterThan(0);
    // The wlan0 chart's live rate is the app's traffic now.
    await expect.poll(async () => LIVE_RATE.test(await wlan.innerText()), { timeout: 15_000 }).toBe(true);
    await shot('interfaces');
  });

  it('shows the blocked state when the kill switch is on and the uplink goes down, in the UI and the tray model', async () => {
    await page.getByRole('link', { name: 'Apps' }).click();
    await page.getByRole('switch', { name: 'Kill switch for Lab Browser' }).click();
    await eventually('kill switch on', helperState, (s) => {
      const c = s.apps.find((a) => a.id === 'lab-browser')?.choice;
      return c?.mode === 'ordered' && c.killSwitch;
    });
    await lab.setUplink('wlan0', 'down');
    const row = page.getByRole('listitem').filter({ hasText: 'Lab Browser' });
    await expect
      .poll(async () => (await row.first().innerText()).toLowerCase(), { timeout: 20_000 })
      .toMatch(/block|kill/);
    const s = await eventually('helper reports killed', helperState, (x) =>
      x.status.killed.includes('lab-browser'),
    );
    const tray = buildTrayModel({
      connection: {
        state: 'connected',
        message: connectionMessage('connected', helper.socket),
        socket: helper.socket,
        retryInMs: null,
      },
      status: s.status,
      apps: s.apps,
      interfaces: s.interfaces,
      pins: ['lab-browser'],
    });
    expect(tray.icon).toBe('killed');
    expect(tray.tooltip).toMatch(/Lab Browser|lab-browser/);
    await shot('apps-killed');
    await lab.setUplink('wlan0', 'up');
  });

  it('has the other views working against the real helper', async () => {
    await eventually(
      'wlan0 back',
      helperState,
      (s) => s.apps.find((a) => a.id === 'lab-browser')?.egress.state === 'routed',
    );
    await page.getByRole('link', { name: 'Explain' }).click();
    await page.getByRole('combobox', { name: 'App' }).selectOption({ label: 'Lab Browser' });
    await page.getByRole('textbox', { name: 'Destination' }).fill(`${lab.servers.v4}:80`);
    await page.getByRole('button', { name: 'Explain' }).click();
    const explanation = page.getByRole('region', { name: 'Explanation' });
    await expect
      .poll(async () => explanation.innerText(), { timeout: 15_000 })
      .toContain(lab.uplink('wlan0').v4.address);
    await shot('explain');
    await page.getByRole('link', { name: 'Activity' }).click();
    await expect
      .poll(async () => page.getByRole('list', { name: 'Activity log' }).innerText(), { timeout: 10_000 })
      .toMatch(/Lab Browser|lab-browser/);
    await shot('activity');
    await page.getByRole('link', { name: 'Settings' }).click();
    await expect
      .poll(async () => page.getByRole('region', { name: 'Helper' }).innerText())
      .toContain(helper.instance);
    await shot('settings');
  });

  it('creates, reorders and deletes encryption rules, marks a network trusted, and shows an app its rules', async () => {
    // A tunnel whose gateway never answers (nothing listens on that port): what it encrypts is held.
    await ask('tunnels.add', {
      name: 'sy-e2e',
      gateway: `${lab.servers.gatewayV4}:51999`,
      gatewayPublicKey: pubkey(genkey()),
      addresses: ['198.19.80.2/32'],
    });
    await page.getByRole('link', { name: 'Rules', exact: true }).click();
    await expect.poll(async () => page.getByText('No rules yet.').count(), { timeout: 15_000 }).toBe(1);

    // A group for the lab's apps, made in the groups dialog.
    await page.getByRole('button', { name: 'Groups' }).click();
    const groups = page.getByRole('dialog', { name: 'App groups' });
    await groups.getByRole('button', { name: 'New group' }).click();
    await groups.getByRole('textbox', { name: 'Group name' }).fill('Lab apps');
    await groups.getByRole('checkbox', { name: /^Lab Browser/ }).check();
    await groups.getByRole('button', { name: 'Create group' }).click();
    await groups.getByRole('listitem', { name: 'Lab apps' }).waitFor();
    expect((await ask('groups.list', {})).map((g) => [g.name, g.apps])).toEqual([
      ['Lab apps', ['lab-browser']],
    ]);
    await groups.getByRole('button', { name: 'Done' }).click();

    // Rule 1: Lab Browser may not reach the lab's web server.
    await page.getByRole('button', { name: 'New rule' }).first().click();
    const editor = page.getByRole('dialog', { name: 'New rule' });
    await editor.getByRole('combobox', { name: 'App' }).selectOption({ label: 'Lab Browser' });
    await editor.getByRole('textbox', { name: 'Destinations' }).fill(`${lab.servers.v4}/32, 198.18.0.9/15`);
    await editor.getByRole('textbox', { name: 'Ports' }).fill(String(lab.servers.httpPort));
    await editor.getByRole('radio', { name: 'TCP' }).check();
    await editor.getByRole('radio', { name: 'Block' }).check();
    await editor.getByRole('textbox', { name: 'Name (optional)' }).fill('No lab web server');
    await editor.getByRole('combobox', { name: 'Expires' }).selectOption({ label: '1 hour' });
    await editor.getByRole('button', { name: 'Add rule' }).click();
    // A network with host bits set is refused before anything is sent.
    await editor.getByText('"198.18.0.9/15" has host bits set; the network is 198.18.0.0/15.').waitFor();
    await editor.getByRole('textbox', { name: 'Destinations' }).fill(`${lab.servers.v4}/32, fd5a::/16`);
    await shot('rule-editor');
    await editor.getByRole('button', { name: 'Add rule' }).click();
    await editor.waitFor({ state: 'detached' });
    const first = (await ask('rules.list', {})).rules.find((r) => r.name === 'No lab web server');
    expect(first?.match).toEqual({
      subject: { kind: 'app', app: 'lab-browser' },
      destinations: [`${lab.servers.v4}/32`, 'fd5a::/16'],
      ports: [{ from: lab.servers.httpPort, to: lab.servers.httpPort }],
      protocol: 'tcp',
      network: 'any',
    });
    expect(first?.action).toEqual({ type: 'block' });
    expect(first?.expiresAt).not.toBeNull();

    // Rule 2: the group's traffic through the tunnel, which is not up: the rule holds that traffic.
    await page.getByRole('button', { name: 'New rule' }).first().click();
    await editor.getByRole('radio', { name: 'Group' }).check();
    await editor.getByRole('combobox', { name: 'Group', exact: true }).selectOption('Lab apps');
    await editor.getByRole('combobox', { name: 'Tunnel' }).selectOption('sy-e2e');
    await editor.getByRole('textbox', { name: 'Name (optional)' }).fill('Lab apps through sy-e2e');
    await editor.getByRole('button', { name: 'Add rule' }).click();
    await editor.waitFor({ state: 'detached' });
    expect(await userRules()).toEqual(['No lab web server', 'Lab apps through sy-e2e']);
    const held = page.getByRole('listitem', { name: /Lab apps through sy-e2e/ });
    await expect
      .poll(async () => held.innerText(), { timeout: 20_000 })
      .toMatch(/Holding traffic: tunnel sy-e2e/);
    const status = page.getByRole('link', { name: 'Rule “Lab apps through sy-e2e” is holding traffic' });
    await expect.poll(async () => status.count(), { timeout: 20_000 }).toBe(1);

    // Reorder from the keyboard: the focused rule moves up, and keeps the focus.
    await held.focus();
    await page.keyboard.press('Alt+ArrowUp');
    await eventually('the rules reordered', userRules, (n) => n[0] === 'Lab apps through sy-e2e');
    expect(await userRules()).toEqual(['Lab apps through sy-e2e', 'No lab web server']);
    await expect
      .poll(async () => page.evaluate<string>("document.activeElement?.getAttribute('aria-label') ?? ''"))
      .toMatch(/^\d+\. Lab apps through sy-e2e$/);
    await page.mouse.move(0, 0);
    // The controls wait for the helper's answer to the move; the screenshot shows them settled.
    await expect
      .poll(async () => page.getByRole('button', { name: 'Delete No lab web server' }).isDisabled())
      .toBe(false);
    await shot('rules');

    // The app's details list both rules, in order, with their actions.
    await page.getByRole('link', { name: 'Apps', exact: true }).click();
    await page.getByRole('searchbox', { name: 'Search apps' }).fill('Lab Browser');
    await page.getByRole('button', { name: 'Details for Lab Browser' }).click();
    const appRules = page.getByRole('list', { name: 'Rules for Lab Browser' });
    await expect
      .poll(async () =>
        (await appRules.getByRole('listitem').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ')),
      )
      .toEqual([
        expect.stringMatching(/Lab apps through sy-e2e Encrypt via sy-e2e .*Holding traffic/),
        expect.stringMatching(/No lab web server Block /),
      ]);
    await shot('app-detail');
    await page.getByRole('button', { name: 'Close details' }).click();

    // Delete the first rule we made.
    await status.click();
    await page.getByRole('button', { name: 'Delete No lab web server' }).click();
    await page
      .getByRole('group', { name: 'Delete No lab web server?' })
      .getByRole('button', { name: 'Delete rule' })
      .click();
    await eventually('the rule deleted', userRules, (n) => n.length === 1);
    expect(await userRules()).toEqual(['Lab apps through sy-e2e']);

    // Networks: the network wlan0 is on, marked trusted.
    const wlanNet = await eventually(
      "wlan0's network identified",
      () => ask('networks.list', {}),
      (l) => l.networks.some((n) => n.interfaces.includes('wlan0') && n.fingerprint.gatewayMac),
    ).then((l) => l.networks.find((n) => n.interfaces.includes('wlan0'))!);
    await page.getByRole('link', { name: 'Networks', exact: true }).click();
    const card = page.getByRole('region', { name: wlanNet.name });
    await expect
      .poll(async () => card.innerText(), { timeout: 15_000 })
      .toContain(wlanNet.fingerprint.gatewayMac!);
    expect(await card.innerText()).toContain(wlanNet.fingerprint.subnet!);
    await card.getByRole('radio', { name: 'Trusted', exact: true }).check();
    const trusted = await eventually(
      'the network marked trusted',
      () => ask('networks.list', {}),
      (l) => l.networks.find((n) => n.id === wlanNet.id)?.trust === 'trusted',
    );
    expect(trusted.networks.find((n) => n.id === wlanNet.id)?.effectiveTrust).toBe('trusted');
    await expect.poll(async () => card.innerText()).toMatch(/^Trusted$/m);
    // The picker waits for the helper's answer; the screenshot shows it settled.
    await expect
      .poll(async () => card.getByRole('radio', { name: 'Trusted', exact: true }).isDisabled())
      .toBe(false);
    await shot('networks');

    // Leave the helper as we found it.
    await ask('networks.setTrust', { id: wlanNet.id, trust: null });
    for (const r of (await ask('rules.list', {})).rules) await ask('rules.remove', { id: r.id });
    await ask('groups.remove', { name: 'Lab apps' });
    await ask('tunnels.remove', { name: 'sy-e2e' });
  });

  it('shows the helper-down screen when the helper stops, and recovers', async () => {
    await helper.stop();
    const heading = page.getByRole('heading', { name: 'The Switchyard helper is not running' });
    await expect.poll(async () => heading.count(), { timeout: 30_000 }).toBe(1);
    expect(await page.locator('body').innerText()).toContain('sudo systemctl start switchyard-helper');
    await shot('helper-down');
    await helper.start();
    await expect
      .poll(async () => page.getByRole('link', { name: 'Apps' }).count(), { timeout: 40_000 })
      .toBeGreaterThan(0);
  });
});
