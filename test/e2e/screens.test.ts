// End to end: every view of the UI, against the real helper in the lab, at the usual laptop window
// (1280×800) and the smallest supported one (800×600), in light and dark. Each view must fit: no
// horizontal scroll, its heading and primary buttons inside the window, the sidebar folded to icons
// when narrow, its visible text at 4.5:1 against what is behind it. Writes
// screen-<view>-<size>-<scheme>.png to test/e2e/artifacts/ for a person to look at.
// Then the keyboard: `/` and Ctrl+F find the search, the details pane takes focus, Esc closes it and
// dialogs and gives focus back, and a disabled switch says why on focus.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab, RunningApp } from '../lab/lab.ts';
import { genkey, pubkey } from '../../native-helper/src/tunnel/keys.ts';
import { LOW_CONTRAST_TEXT } from './contrast-probe.ts';
import { UiSession, VIEWPORTS, cannotRun } from './harness.ts';

/** Nav links in sidebar order; Tunnels only when the build has that view. */
const VIEWS = ['Apps', 'Rules', 'Networks', 'Interfaces', 'Tunnels', 'Activity', 'Explain', 'Settings'];

type Size = keyof typeof VIEWPORTS;
const sizeName = (s: Size) => `${VIEWPORTS[s].width}x${VIEWPORTS[s].height}`;

describe.skipIf(cannotRun)('every view at 1280×800 and 800×600, light and dark', () => {
  const ui = new UiSession();
  let lab: Lab;
  let page: Page;
  let app: RunningApp;

  // Page code is given as strings: the tests' tsconfig has no DOM types.
  const active = () =>
    page.evaluate<{ tag: string; label: string }>(`(() => {
      const el = document.activeElement;
      return { tag: el?.tagName ?? '', label: el?.getAttribute('aria-label') ?? el?.textContent?.trim() ?? '' };
    })()`);
  const navLink = (view: string) =>
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: view, exact: true });
  const details = (): Locator => page.getByRole('complementary', { name: 'Details for Lab Browser' });

  /** What is cut off or scrolls sideways at this size, in words (empty when everything fits). */
  async function misfits(what: string): Promise<string[]> {
    const { width, height } = page.viewportSize()!;
    const out: string[] = [];
    const scroll = await page.evaluate<{ sw: number; cw: number }>(
      '({ sw: document.scrollingElement.scrollWidth, cw: document.scrollingElement.clientWidth })',
    );
    if (scroll.sw > scroll.cw) out.push(`${what}: page scrolls sideways (${scroll.sw} > ${scroll.cw})`);
    const inside = async (l: Locator, name: string) => {
      await l.scrollIntoViewIfNeeded();
      const b = await l.boundingBox();
      if (!b) return out.push(`${what}: ${name} is not shown`);
      if (b.x < 0 || b.y < 0 || b.x + b.width > width + 0.5 || b.y + b.height > height + 0.5)
        out.push(`${what}: ${name} is cut off at ${JSON.stringify(b)} in ${width}×${height}`);
    };
    const h1 = page.locator('main h1').first();
    await inside(h1, `heading “${await h1.innerText()}”`);
    // Primary buttons and the buttons of the view's header (New rule, Add tunnel…, Groups…).
    const buttons = page.locator('main .btn.primary:visible, main header .btn:visible');
    for (const b of await buttons.all()) {
      await inside(b, `button “${(await b.innerText()).trim() || (await b.getAttribute('aria-label'))}”`);
    }
    // The row Launch buttons sit at the right edge of the apps list.
    const launch = page.getByRole('button', { name: /^Launch / }).first();
    if (await launch.count()) await inside(launch, 'the first row’s Launch button');
    return out;
  }

  /** Text on screen below 4.5:1 (3:1 when large) against what is behind it, in light and in dark. */
  async function lowContrast(what: string): Promise<string[]> {
    const out: string[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(150);
      for (const t of await page.evaluate<string[]>(LOW_CONTRAST_TEXT)) out.push(`${what} (${scheme}): ${t}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    return out;
  }

  beforeAll(async () => {
    await ui.start();
    ({ lab, page } = ui);
    app = await lab.startApp('lab-browser', { args: ['--interval-ms', '250'] });
    // Something in every view: a tunnel whose gateway never answers (so its rule holds traffic), a
    // rule that expires, and the app on wlan0 so Interfaces carries it.
    await ui.ask('tunnels.add', {
      name: 'sy-screens',
      gateway: `${lab.servers.gatewayV4}:51998`,
      gatewayPublicKey: pubkey(genkey()),
      addresses: ['198.19.81.2/32'],
    });
    const subject = { kind: 'app', app: 'lab-browser' } as const;
    await ui.ask('rules.add', {
      rule: {
        name: 'Lab Browser to the office through sy-screens',
        match: { subject, destinations: ['10.20.0.0/16'] },
        action: { type: 'encrypt', tunnel: 'sy-screens' },
      },
    });
    await ui.ask('rules.add', {
      rule: {
        name: 'No QUIC for Lab Browser',
        match: { subject, ports: [{ from: 443, to: 443 }], protocol: 'udp' },
        action: { type: 'block' },
        expiresIn: 3600,
      },
    });
    await ui.ask('egress.set', {
      app: 'lab-browser',
      choice: { mode: 'ordered', egresses: ['wlan0', 'enp3s0'], killSwitch: false },
    });
    await navLink('Apps').click();
    await page.locator('.app-row[data-app-id="lab-browser"]').waitFor({ timeout: 20_000 });
  });

  afterAll(async () => {
    await app?.stop();
    await ui.stop();
  });

  for (const size of ['wide', 'small'] as const) {
    it(`fits every view at ${sizeName(size)} and writes its screenshots`, async () => {
      await page.setViewportSize(VIEWPORTS[size]);
      const problems: string[] = [];
      const sidebar = await page.locator('aside.sidebar').boundingBox();
      // Narrow windows keep the icons only; the links keep their names.
      if (size === 'small') expect(sidebar!.width).toBeLessThan(80);
      else expect(sidebar!.width).toBeGreaterThan(150);

      const present = [];
      for (const view of VIEWS) if (await navLink(view).count()) present.push(view);
      expect(present).toEqual(expect.arrayContaining(VIEWS.filter((v) => v !== 'Tunnels')));

      for (const view of present) {
        await navLink(view).click();
        await page.getByRole('heading', { level: 1, name: view, exact: true }).waitFor();
        if (view === 'Apps') {
          await page.getByRole('searchbox', { name: 'Search apps' }).fill('');
          await page.locator('.app-row').first().waitFor();
        }
        if (view === 'Interfaces') await page.locator('main canvas').first().waitFor();
        // No hover or focus ring in the picture: the pointer rests on the view's empty top-right corner.
        await page.mouse.move(VIEWPORTS[size].width - 2, 2);
        await page.evaluate('document.activeElement?.blur()');
        await ui.shot(`screen-${view.toLowerCase()}-${sizeName(size)}`);
        problems.push(...(await misfits(view)), ...(await lowContrast(view)));

        if (view === 'Apps') {
          await page.getByRole('button', { name: 'Details for Lab Browser' }).click();
          await details().waitFor();
          await ui.shot(`screen-app-details-${sizeName(size)}`);
          problems.push(...(await misfits('App details')), ...(await lowContrast('App details')));
          const close = details().getByRole('button', { name: 'Close details' });
          const box = (await close.boundingBox())!;
          expect(box.x + box.width).toBeLessThanOrEqual(VIEWPORTS[size].width);
          await close.click();
          await details().waitFor({ state: 'detached' });
        }
      }
      expect(problems).toEqual([]);
    });
  }

  it('works by keyboard: / and Ctrl+F search, the details pane takes and gives back focus, Esc closes it and dialogs', async () => {
    await page.setViewportSize(VIEWPORTS.small);
    await navLink('Apps').click();
    await page.locator('.app-row').first().waitFor();

    // `/` from anywhere outside a field puts the cursor in the search box.
    await navLink('Apps').focus();
    await page.keyboard.press('/');
    expect(await active()).toEqual({ tag: 'INPUT', label: 'Search apps' });
    await page.keyboard.type('Lab Browser');
    const row = page.getByRole('button', { name: 'Details for Lab Browser' });
    await expect.poll(async () => page.locator('.app-row').count()).toBe(1);

    // Opening the details moves focus into the pane (its heading); Esc closes it and focus is back on the row.
    await row.focus();
    await page.keyboard.press('Enter');
    await details().waitFor();
    await expect.poll(active).toEqual({ tag: 'H2', label: 'Lab Browser' });
    expect(await page.evaluate<boolean>('!!document.activeElement?.closest("aside.detail")')).toBe(true);
    await page.keyboard.press('Escape');
    await details().waitFor({ state: 'detached' });
    await expect.poll(active).toEqual({ tag: 'BUTTON', label: 'Details for Lab Browser' });

    // Ctrl+F from a row selects the search text, ready to type over.
    await page.keyboard.press('Control+f');
    expect(await active()).toEqual({ tag: 'INPUT', label: 'Search apps' });
    const selected = await page.evaluate<string>(
      '(b => b.value.slice(b.selectionStart, b.selectionEnd))(document.activeElement)',
    );
    expect(selected).toBe('Lab Browser');

    // A kill switch without an egress list is disabled, yet Tab reaches it and it says why.
    await ui.ask('egress.set', { app: 'lab-browser', choice: { mode: 'default' } });
    const sw = page.getByRole('switch', { name: 'Kill switch for Lab Browser' });
    await expect.poll(async () => sw.getAttribute('aria-disabled')).toBe('true');
    await page.getByRole('combobox', { name: 'Egress for Lab Browser' }).focus();
    await page.keyboard.press('Tab');
    expect((await active()).label).toBe('Kill switch for Lab Browser');
    const describedBy = (await sw.getAttribute('aria-describedby')) ?? '';
    const why = (
      await Promise.all(describedBy.split(' ').map((id) => page.locator(`[id="${id}"]`).textContent()))
    ).join(' ');
    expect(why).toMatch(/Pick an interface in the egress menu first/);
    const tip = page.getByText(/Pick an interface in the egress menu first/);
    expect(await tip.isVisible()).toBe(true);
    await ui.shot('screen-keyboard-disabled-reason-800x600');
    await page.keyboard.press('Shift+Tab');
    expect(await tip.isVisible()).toBe(false);

    // Esc closes a dialog too, and focus returns to the button that opened it.
    await navLink('Rules').click();
    const newRule = page.getByRole('button', { name: 'New rule' }).first();
    await newRule.click();
    const editor = page.getByRole('dialog', { name: 'New rule' });
    await editor.waitFor();
    await page.keyboard.press('Escape');
    await editor.waitFor({ state: 'detached' });
    expect((await active()).label).toBe('New rule');
  });
});
