// End to end: the Routing control above the app list switches include/exclude mode, and an app's
// details turn its LAN access on, in Debian's chromium against the real helper in the lab. The helper
// (mode.get, apps.list) and the kernel's own route for an unmanaged flow (mode.explain) say it is in force.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodName, ParamsIn, Result } from '../../native-helper/src/api/schema.ts';
import type { Lab } from '../lab/lab.ts';
import { LOW_CONTRAST_TEXT } from './contrast-probe.ts';
import { UiSession, VIEWPORTS, cannotRun } from './harness.ts';
import { eventually } from '../integration/support.ts';

const APP = 'lab-browser';

describe.skipIf(cannotRun)('include/exclude mode and LAN access from the UI, against the real helper', () => {
  const ui = new UiSession();
  let lab: Lab;
  let page: Page;
  const ask = <M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Result<M>> =>
    ui.ask(method, params);
  const control = (): Locator => page.getByRole('region', { name: 'Routing' });
  const radio = (name: string): Locator => control().getByRole('radio', { name, exact: true });
  const via = (): Locator => control().getByRole('combobox', { name: 'Egress for every app except these' });
  const kill = (): Locator =>
    control().getByRole('switch', { name: 'Kill switch for every app except these' });
  const details = (): Locator => page.getByRole('complementary', { name: 'Details for Lab Browser' });
  const lan = (): Locator => details().getByRole('switch', { name: 'LAN access for Lab Browser' });
  /** Where the kernel sends a flow of a process in no app, as the helper explains it. */
  const unmanaged = async () => {
    const e = await ask('mode.explain', { destination: `${lab.servers.v4}:${lab.servers.httpPort}` });
    return { verdict: e.verdict, egress: e.egress, steps: e.steps.join(' ') };
  };
  const modeIs = (want: Result<'mode.get'>['mode']) =>
    eventually(
      `mode ${JSON.stringify(want)}`,
      () => ask('mode.get', {}),
      (v) => JSON.stringify(v.mode) === JSON.stringify(want),
    );

  /** Text under 4.5:1 in the Routing control or the details, light and dark. */
  const lowContrast = async () => {
    const out: string[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(150);
      for (const t of await page.evaluate<string[]>(LOW_CONTRAST_TEXT)) out.push(`${scheme}: ${t}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    return out;
  };

  beforeAll(async () => {
    await ui.start();
    ({ lab, page } = ui);
    await page.getByRole('link', { name: 'Apps', exact: true }).click();
    await control().waitFor();
  });

  afterAll(() => ui.stop());

  it('starts in include mode, says so in one line, and an unmanaged flow takes the system routing', async () => {
    expect((await ask('mode.get', {})).mode).toEqual({ kind: 'include' });
    expect(await radio('Only the apps I choose').isChecked()).toBe(true);
    expect(await radio('Every app except these').isChecked()).toBe(false);
    expect(await control().innerText()).toContain(
      'Only the apps you give an egress are routed; everything else uses the system routing.',
    );
    expect(await via().count()).toBe(0);
    expect((await unmanaged()).verdict).toBe('default');
    await page.mouse.move(0, 0);
    await ui.shot('mode-include');
  });

  it('switches to "Every app except these" through wlan0 with its kill switch, by keyboard, and the kernel follows', async () => {
    // Arrow keys move a radio group's choice, as in any desktop toolkit.
    await radio('Only the apps I choose').focus();
    await page.keyboard.press('ArrowRight');
    await via().waitFor();
    await via().selectOption('wlan0');

    const view = await modeIs({ kind: 'exclude', via: 'wlan0', killSwitch: true });
    expect(view.viaUsable).toBe(true);
    const route = await unmanaged();
    expect(route, route.steps).toMatchObject({ verdict: 'egress', egress: 'wlan0' });
    // The lab's default route is enp3s0: wlan0 is exclude mode's doing.
    expect(route.steps).toContain('out of wlan0');

    expect(await radio('Every app except these').isChecked()).toBe(true);
    // The keyboard stays where it was: nothing is disabled (and so unfocused) while it saves.
    expect(
      await radio('Every app except these').evaluate((el) => el === el.ownerDocument.activeElement),
    ).toBe(true);
    expect(await kill().getAttribute('aria-checked')).toBe('true');
    const text = await control().innerText();
    expect(text).toContain('go through wlan0; apps given an egress of their own keep it.');
    expect(text).toContain('On: when wlan0 is down, that traffic is blocked.');

    // The kill switch goes off and on again from its switch (Space, as a switch takes).
    await kill().focus();
    await page.keyboard.press('Space');
    await modeIs({ kind: 'exclude', via: 'wlan0', killSwitch: false });
    await expect.poll(() => kill().getAttribute('aria-checked'), { timeout: 15_000 }).toBe('false');
    expect(await kill().evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    expect(await control().innerText()).toContain(
      'Off: when wlan0 is down, that traffic uses the system routing.',
    );
    await kill().click();
    await modeIs({ kind: 'exclude', via: 'wlan0', killSwitch: true });
    await expect.poll(() => kill().getAttribute('aria-checked'), { timeout: 15_000 }).toBe('true');

    await page.mouse.move(0, 0);
    await ui.shot('mode-exclude');
    await page.setViewportSize(VIEWPORTS.small);
    await ui.shot('mode-exclude-small');
    await page.setViewportSize(VIEWPORTS.wide);
  });

  it('warns in its one line while wlan0 is down, and the helper says wlan0 is not usable', async () => {
    await lab.setUplink('wlan0', 'down');
    try {
      const view = await eventually(
        'wlan0 not usable for exclude mode',
        () => ask('mode.get', {}),
        (v) => v.viaUsable === false,
      );
      expect(view.mode).toEqual({ kind: 'exclude', via: 'wlan0', killSwitch: true });
      const warn = control().locator('.what.warn');
      await warn.waitFor({ timeout: 15_000 });
      expect(await warn.innerText()).toBe(
        'wlan0 is down: the kill switch blocks what it carries until it is back.',
      );
      expect(await via().locator('option:checked').innerText()).toBe('wlan0 (down)');
      // Apps left on System default go through wlan0 too, so its kill switch holds them: the helper and
      // their rows say so, in the words the rest of the UI uses.
      await eventually(
        'lab-browser held',
        () => ask('status.get', {}),
        (st) => st.killed.includes(APP),
      );
      const row = page.locator(`.app-row[data-app-id="${APP}"]`);
      await expect
        .poll(() => row.locator('.state').innerText(), { timeout: 15_000 })
        .toBe('Blocked (kill switch)');
      expect(await lowContrast()).toEqual([]);
      await page.mouse.move(0, 0);
      await ui.shot('mode-exclude-down');

      // Its kill switch off from the UI: the line says that traffic uses the system routing meanwhile.
      await kill().click();
      await modeIs({ kind: 'exclude', via: 'wlan0', killSwitch: false });
      await expect
        .poll(() => warn.innerText(), { timeout: 15_000 })
        .toBe('wlan0 is down: what it carries uses the system routing until it is back.');
    } finally {
      await lab.setUplink('wlan0', 'up');
    }
    await eventually(
      'wlan0 usable again',
      () => ask('mode.get', {}),
      (v) => v.viaUsable === true,
      30_000,
    );
    await expect.poll(() => control().locator('.what.warn').count(), { timeout: 15_000 }).toBe(0);
  });

  it('goes back to "Only the apps I choose", and the unmanaged flow to the system routing', async () => {
    await radio('Only the apps I choose').click();
    const view = await modeIs({ kind: 'include' });
    expect(view.viaUsable).toBeNull();
    await expect.poll(() => via().count(), { timeout: 15_000 }).toBe(0);
    expect((await unmanaged()).verdict).toBe('default');
  });

  it("turns Lab Browser's LAN access on in its details, and apps.list has it", async () => {
    const before = (await ask('apps.list', {})).find((a) => a.id === APP);
    expect(before?.lanAccess ?? false).toBe(false);
    await page.getByRole('searchbox', { name: 'Search apps' }).fill('Lab Browser');
    await page.getByRole('button', { name: 'Details for Lab Browser' }).click();
    await details().waitFor();
    expect(await lan().getAttribute('aria-checked')).toBe('false');

    await lan().click();
    const on = await eventually(
      'lab-browser with LAN access',
      async () => (await ask('apps.list', {})).find((a) => a.id === APP),
      (a) => a?.lanAccess === true,
    );
    expect(on?.lanAccess).toBe(true);
    await expect.poll(() => lan().getAttribute('aria-checked'), { timeout: 15_000 }).toBe('true');
    expect(await details().innerText()).toContain('On: it reaches devices on your local networks');
    expect(await lowContrast()).toEqual([]);
    await lan().scrollIntoViewIfNeeded();
    await page.mouse.move(0, 0);
    await ui.shot('app-lan-access');

    await lan().click();
    await eventually(
      'lab-browser without LAN access',
      async () => (await ask('apps.list', {})).find((a) => a.id === APP),
      (a) => !a?.lanAccess,
    );
    await expect.poll(() => lan().getAttribute('aria-checked'), { timeout: 15_000 }).toBe('false');
  });
});
