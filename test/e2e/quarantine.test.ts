// End to end: quarantine an app from the UI and clear it again, in Debian's chromium against the real
// helper in the lab. The app's row, its details, the sidebar and the audit trail show it; a real
// connection made as the app is refused while it is quarantined and goes through once it is cleared.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodName, ParamsIn, Result } from '../../native-helper/src/api/schema.ts';
import type { Lab } from '../lab/lab.ts';
import { type RunningHelper, SWITCHYARD } from '../lab/switchyard-helper.ts';
import { UiSession, cannotRun } from './harness.ts';
import { eventually } from '../integration/support.ts';

const APP = 'lab-browser';

describe.skipIf(cannotRun)('quarantine from the UI against the real helper in the lab', () => {
  const ui = new UiSession();
  let lab: Lab;
  let helper: RunningHelper;
  let page: Page;
  const shot = (name: string) => ui.shot(name);
  const ask = <M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Result<M>> =>
    ui.ask(method, params);
  /** A new HTTP connection to the lab's server, made as the app (`switchyard run` puts curl in its cgroup). */
  const connectAsApp = async () => {
    const r = await lab.run(
      'desktop',
      [
        SWITCHYARD,
        'run',
        '--app',
        APP,
        '--socket',
        helper.socket,
        '--',
        'curl',
        '-sS',
        '--max-time',
        '3',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `http://${lab.servers.v4}:${lab.servers.httpPort}/quarantine-probe`,
      ],
      { allowFailure: true },
    );
    return {
      ok: r.code === 0 && r.stdout.trim() === '200',
      code: r.code,
      said: `${r.stdout} ${r.stderr}`.trim(),
    };
  };
  const eventRulesOf = async (app: string) =>
    (await ask('rules.list', {})).rules.filter(
      (r) => r.layer === 'event' && r.match.subject.kind === 'app' && r.match.subject.app === app,
    );
  const row = (): Locator => page.locator(`.app-row[data-app-id="${APP}"]`);
  const details = (): Locator => page.getByRole('complementary', { name: 'Details for Lab Browser' });
  const sidebar = (): Locator => page.locator('aside.sidebar');
  const auditRows = (): Locator => page.getByRole('list', { name: 'Audit trail' }).getByRole('listitem');
  /** The audit rows as "Action | app | message" lines, newest first. */
  const auditLines = () =>
    auditRows().evaluateAll((items) =>
      items.map((li) =>
        ['.type', '.app', '.message'].map((s) => li.querySelector(s)?.textContent?.trim()).join(' | '),
      ),
    );

  async function openDetails() {
    await page.getByRole('link', { name: 'Apps', exact: true }).click();
    await page.getByRole('searchbox', { name: 'Search apps' }).fill('Lab Browser');
    if (!(await details().count()))
      await page.getByRole('button', { name: 'Details for Lab Browser' }).click();
    await details().waitFor();
  }

  beforeAll(async () => {
    await ui.start();
    ({ lab, helper, page } = ui);
  });

  afterAll(() => ui.stop());

  it('lets a connection made as Lab Browser through before anything holds it', async () => {
    const before = await connectAsApp();
    expect(before, before.said).toMatchObject({ ok: true });
    expect((await ask('apps.get', { id: APP })).held).toEqual([]);
    expect(await eventRulesOf(APP)).toEqual([]);
  });

  it('quarantines Lab Browser for 1 hour from its details: row, details, sidebar, helper and traffic', async () => {
    await openDetails();
    await details().getByRole('button', { name: 'Quarantine…' }).click();
    const picker = details().getByRole('group', { name: 'Quarantine Lab Browser' });
    await picker.getByRole('radio', { name: '1 hour' }).check();
    const asked = Date.now();
    await picker.getByRole('button', { name: 'Quarantine for 1 hour' }).click();

    // The helper has it: held for an hour, a block rule in the event layer, status.held.
    const app = await eventually(
      'the helper holding lab-browser',
      () => ask('apps.get', { id: APP }),
      (a) => a.held.length === 1,
    );
    const [held] = app.held;
    expect(held).toMatchObject({ kind: 'quarantined', source: 'quarantine', severity: 'high' });
    expect(held!.reason).toBe('quarantined by hand for 1 h');
    expect(Math.abs(Date.parse(held!.until!) - (asked + 3600_000))).toBeLessThan(15_000);
    expect((await ask('status.get', {})).held).toEqual([APP]);
    const rules = await eventRulesOf(APP);
    expect(rules).toEqual([
      expect.objectContaining({
        action: { type: 'block' },
        expiresAt: held!.until,
        event: expect.objectContaining({ id: held!.event }),
      }),
    ]);

    // The row: a badge apart from the egress state, counting down.
    await expect
      .poll(async () => (await row().locator('[data-held]').count()) > 0, { timeout: 15_000 })
      .toBe(true);
    expect(await row().locator('[data-held]').innerText()).toMatch(/^Quarantined · (1 h|59 min) left$/);
    expect(await row().locator('.state').innerText()).not.toMatch(/Quarantined/);

    // The details explain it.
    const section = details().getByRole('region', { name: 'Flags and quarantine' });
    await section.waitFor();
    const text = (await section.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('Quarantined');
    expect(text).toContain('High severity');
    expect(text).toContain('quarantined by hand for 1 h');
    expect(text).toContain('Source Quarantined by hand');
    expect(text).toMatch(/By root \(uid 0\)/);
    expect(text).toMatch(/Until .* \((1 h|59 min) left\)/);
    expect(text).toContain('1 event rule holds its traffic');
    expect(await details().innerText()).toContain('Its quarantine blocks all of its traffic for now.');

    // The sidebar says so, as it says a rule holds traffic.
    const link = sidebar().getByRole('link', { name: 'Lab Browser quarantined' });
    await expect.poll(async () => link.count(), { timeout: 15_000 }).toBe(1);
    expect(await sidebar().innerText()).toContain('Holding traffic');

    // And the traffic: a new connection as the app is refused.
    const during = await connectAsApp();
    expect(during.ok, during.said).toBe(false);

    await page.mouse.move(0, 0);
    await shot('quarantine-apps');
  });

  it('shows the quarantine in the audit trail', async () => {
    await page.getByRole('link', { name: 'Activity', exact: true }).click();
    await page.getByRole('radio', { name: 'Audit' }).check();
    await expect
      .poll(auditLines, { timeout: 15_000 })
      .toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^Event started \| Lab Browser \| lab-browser quarantined until .*: quarantined by hand for 1 h$/,
          ),
          expect.stringMatching(
            /^Rule created \| Lab Browser \| rule .* "A quarantined app is blocked \(quarantine\)": block until /,
          ),
        ]),
      );
    // The helper's own trail says the same, newest last.
    const trail = await ask('audit.list', { app: APP });
    expect(trail.map((a) => a.action)).toEqual(['event.started', 'rule.created']);
    expect((await auditLines()).filter((l) => l.includes(' | Lab Browser | '))).toHaveLength(trail.length);
    await shot('quarantine-audit');
  });

  it('clears it from the UI: the row and sidebar let go, the rule goes, traffic flows, the audit has the end', async () => {
    await openDetails();
    await details().getByRole('button', { name: 'Clear', exact: true }).click();
    await expect.poll(async () => row().locator('[data-held]').count(), { timeout: 15_000 }).toBe(0);
    expect(await row().innerText()).not.toMatch(/Quarantined/);
    expect(await details().getByRole('region', { name: 'Flags and quarantine' }).count()).toBe(0);
    await expect
      .poll(async () =>
        sidebar()
          .getByRole('link', { name: /Lab Browser/ })
          .count(),
      )
      .toBe(0);

    // The helper: nothing held, no event rule left, the traffic goes through again.
    expect((await ask('apps.get', { id: APP })).held).toEqual([]);
    expect((await ask('status.get', {})).held).toEqual([]);
    expect(await eventRulesOf(APP)).toEqual([]);
    const after = await eventually(
      'a connection as lab-browser going through',
      connectAsApp,
      (r) => r.ok,
      15_000,
    );
    expect(after.ok).toBe(true);

    // The audit trail, live: the rule removed and the quarantine ended, on top.
    await page.getByRole('link', { name: 'Activity', exact: true }).click();
    await page.getByRole('radio', { name: 'Audit' }).check();
    await expect
      .poll(async () => (await auditLines()).slice(0, 2), { timeout: 15_000 })
      .toEqual([
        'Event ended | Lab Browser | the quarantine of lab-browser ended: cleared',
        expect.stringMatching(
          /^Rule removed \| Lab Browser \| rule .* "A quarantined app is blocked \(quarantine\)" removed: cleared$/,
        ),
      ]);
    expect((await ask('audit.list', { app: APP })).map((a) => a.action)).toEqual([
      'event.started',
      'rule.created',
      'rule.removed',
      'event.ended',
    ]);
    // Filtered to what ended, for the screenshot.
    await page.getByRole('combobox', { name: 'Audit action' }).selectOption('event.ended');
    await expect
      .poll(auditLines)
      .toEqual(['Event ended | Lab Browser | the quarantine of lab-browser ended: cleared']);
    await page.getByRole('combobox', { name: 'Audit action' }).selectOption('all');
    await shot('quarantine-cleared-audit');
  });
});
