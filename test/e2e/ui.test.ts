// End to end: Debian's chromium drives the real UI, served by the web bridge, talking to the real
// helper inside the lab; the lab's servers confirm where the traffic went.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App, Interface, Status } from '../../native-helper/src/api/schema.ts';
import { connectionMessage } from '../../native-helper/src/api/reconnecting-client.ts';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { type WebBridge, startWebBridge } from '../../native-helper/src/web/bridge.ts';
import { buildTrayModel } from '../../electron/tray-model.ts';
import { Lab, type RunningApp } from '../lab/lab.ts';
import { REPO, RunningHelper } from '../lab/switchyard-helper.ts';
import { eventually } from '../integration/support.ts';

const isRoot = process.getuid?.() === 0;
const RENDERER = join(REPO, 'renderer/dist');
const ARTIFACTS = join(REPO, 'test/e2e/artifacts');
/** A non-zero live rate as the UI prints it ("839 B/s", "1.5 kB/s"). */
const LIVE_RATE = /(^|\s)[1-9][\d.]* ?[kMG]?(B|bit)\/s/m;
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

describe.skipIf(!isRoot || !existsSync('/usr/bin/chromium'))(
  'the UI against the real helper in the lab',
  () => {
    let lab: Lab;
    let helper: RunningHelper;
    let bridge: WebBridge;
    let browser: Browser;
    let page: Page;
    let app: RunningApp;

    const shot = async (name: string) => {
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.waitForTimeout(150);
        await page.screenshot({ path: join(ARTIFACTS, `${name}-${scheme}.png`) });
      }
      await page.emulateMedia({ colorScheme: 'light' });
    };
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
      mkdirSync(ARTIFACTS, { recursive: true });
      if (!existsSync(join(RENDERER, 'index.html'))) await run(['npm', 'run', '-s', 'build:renderer']);
      lab = await Lab.up({ prefix: Lab.randomPrefix() });
      helper = new RunningHelper(lab);
      await helper.start();
      app = await lab.startApp('lab-browser', { args: ['--interval-ms', '250'] });
      bridge = await startWebBridge({ helperSocket: helper.socket, rendererDir: RENDERER });
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(bridge.url);
    });

    afterAll(async () => {
      await browser?.close();
      await bridge?.close();
      await app?.stop();
      await helper?.stop();
      await lab?.down();
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
  },
);
