// End to end: the Tunnels view and Add app… against the real helper in the lab. A tunnel is added from
// the UI to a real `switchyard gateway` in the lab's gateway namespace; the gateway's operator (the
// test, with the CLI) lists the key the UI showed, and the handshake brings it up, bytes growing. A
// rule through its key group "work" shows the group with the app using it. Then the tunnel and a
// hand-added app are removed from the UI, and the helper confirms each.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import type { Lab, RunningApp } from '../lab/lab.ts';
import { SWITCHYARD } from '../lab/switchyard-helper.ts';
import { eventually } from '../integration/support.ts';
import { UiSession, cannotRun } from './harness.ts';

const sy = async (args: string[], input?: string) =>
  (await run([SWITCHYARD, ...args], input === undefined ? {} : { input })).stdout.trim();

/** "12.3 kB" → bytes, as the UI prints them (format.ts). */
function bytesOf(text: string): number {
  const m = /([\d.]+) (B|kB|MB|GB)/.exec(text);
  if (!m) return Number.NaN;
  return Number(m[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'B'];
}

describe.skipIf(cannotRun)('tunnels and hand-added apps in the UI, against the real helper', () => {
  const ui = new UiSession();
  let lab: Lab;
  let page: Page;
  let app: RunningApp;
  let gateway: ChildProcess | undefined;
  let gatewayLog = '';
  let work: string;
  let gatewaySocket: string;
  let gatewayPub: string;

  beforeAll(async () => {
    await ui.start();
    ({ lab, page } = ui);
    work = mkdtempSync(join(tmpdir(), 'sy-e2e-tunnels-'));
    gatewaySocket = `/run/switchyard/${lab.prefix}-gwt.sock`;
    // The gateway starts with no peers: its operator adds ours once the UI shows our key.
    const gatewayKey = await sy(['tunnel', 'keygen']);
    gatewayPub = await sy(['tunnel', 'pubkey'], gatewayKey);
    writeFileSync(
      join(work, 'gw.json'),
      JSON.stringify({
        instance: `${lab.prefix}t`,
        privateKey: gatewayKey,
        listenPort: 51902,
        address: '10.79.0.1/24',
        uplinks: [{ name: 'internet', interface: 'eth0' }],
        peers: [],
      }),
      { mode: 0o600 },
    );
    gateway = spawn(
      'nsenter',
      [
        `--net=/run/netns/${lab.nsName('gateway')}`,
        '--',
        SWITCHYARD,
        'gateway',
        '--config',
        join(work, 'gw.json'),
        '--state-dir',
        work,
        '--socket',
        gatewaySocket,
        // The resolver it offers (the lab's, on its address); the tunnel learns it in the handshake.
        '--dns',
        lab.servers.gatewayV4,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    gateway.stderr!.on('data', (d) => (gatewayLog += d));
    await eventually(
      'the gateway listening',
      async () => gatewayLog,
      (l) => l.includes('listening on UDP'),
      30_000,
    );
  });

  afterAll(async () => {
    await app?.stop();
    if (gateway && gateway.exitCode === null) {
      const done = new Promise((r) => gateway!.once('exit', r));
      gateway.kill('SIGTERM');
      await done;
    }
    await ui.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("adds a tunnel from the UI, shows this end's key, and comes up once the gateway lists it", async () => {
    await page.getByRole('link', { name: 'Tunnels' }).click();
    await page.getByText('No tunnels yet.').waitFor();
    await page.getByRole('button', { name: 'Add tunnel…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add tunnel' });
    // A mistake is named by its field, before anything reaches the helper.
    await dialog.getByRole('textbox', { name: 'Name' }).fill('sy-e2e');
    await dialog.getByRole('textbox', { name: 'Gateway', exact: true }).fill(lab.servers.gatewayV4);
    await dialog.getByRole('textbox', { name: "Gateway's public key" }).fill(gatewayPub);
    await dialog.getByRole('textbox', { name: 'Addresses in the tunnel' }).fill('10.79.0.2/24');
    await dialog.getByRole('button', { name: 'Add tunnel' }).click();
    await dialog
      .getByText('write it as HOST:PORT, e.g. gw.example.net:51900 or [2001:db8::1]:51900')
      .waitFor();
    expect(await ui.ask('tunnels.list', {})).toEqual([]);
    await dialog
      .getByRole('textbox', { name: 'Gateway', exact: true })
      .fill(`${lab.servers.gatewayV4}:51902`);
    await dialog.getByRole('combobox', { name: 'Cipher' }).selectOption('chacha20poly1305');
    await ui.shot('tunnel-add', { keepNotices: true });
    await dialog.getByRole('button', { name: 'Add tunnel' }).click();

    const done = page.getByRole('dialog', { name: 'Tunnel sy-e2e added' });
    await done.waitFor();
    const shownKey = (
      await done.getByLabel("this end's public key for sy-e2e", { exact: true }).innerText()
    ).trim();
    const [made] = await ui.ask('tunnels.list', {});
    expect(made).toMatchObject({
      name: 'sy-e2e',
      gateway: `${lab.servers.gatewayV4}:51902`,
      gatewayPublicKey: gatewayPub,
      addresses: ['10.79.0.2/24'],
      cipher: 'chacha20poly1305',
    });
    expect(shownKey).toBe(made!.publicKey);
    await ui.shot('tunnel-added', { keepNotices: true });
    await done.getByRole('button', { name: 'Done' }).click();

    // Until the gateway knows our key there is no handshake: the card says so, in the CLI's words.
    const card = page.getByRole('region', { name: 'sy-e2e' });
    expect(['connecting', 'down']).toContain(made!.state);
    await expect.poll(async () => card.innerText(), { timeout: 15_000 }).toMatch(/\b(connecting|down)\b/);

    // The gateway's operator lists the key the UI showed, with Lab Browser's tag, also in key group work.
    const { tag } = await ui.ask('apps.get', { id: 'lab-browser' });
    const added = await sy([
      'gateway',
      'peer',
      'add',
      'desktop',
      '--key',
      shownKey,
      '--address',
      '10.79.0.2/32',
      '--app',
      `${tag}=0.0.0.0/0`,
      '--group',
      `work:${tag}=0.0.0.0/0`,
      '--socket',
      gatewaySocket,
    ]);
    expect(added).toMatch(/peer desktop set/);
    const up = await eventually(
      'the tunnel up',
      async () => (await ui.ask('tunnels.list', {}))[0],
      (t) => t?.state === 'up',
      45_000,
    );
    expect(up!.problem).toBeNull();
    await expect.poll(async () => card.getByText('up', { exact: true }).count(), { timeout: 15_000 }).toBe(1);
    expect(await card.getByLabel("this end's public key for sy-e2e", { exact: true }).innerText()).toBe(
      shownKey,
    );
    expect(await card.getByLabel("the public key of sy-e2e's gateway", { exact: true }).innerText()).toBe(
      gatewayPub,
    );
    expect(await card.innerText()).toContain('ChaCha20-Poly1305');
    // The gateway's resolver, learned in the handshake with no step of the user's.
    expect(up!.gatewayDns).toEqual([lab.servers.gatewayV4]);
    await expect
      .poll(async () => card.innerText(), { timeout: 15_000 })
      .toMatch(new RegExp(`DNS\\s+${lab.servers.gatewayV4.replaceAll('.', '\\.')}\\s+from the gateway`));
    await ui.shot('tunnel-up-dns');
  });

  it('a rule through key group work shows the group established, with its bytes and the app using it', async () => {
    // The rule, made in the rule editor, picking key group "work" of the tunnel.
    await page.getByRole('link', { name: 'Rules', exact: true }).click();
    await page.getByRole('button', { name: 'New rule' }).first().click();
    const editor = page.getByRole('dialog', { name: 'New rule' });
    await editor.getByRole('combobox', { name: 'App', exact: true }).selectOption({ label: 'Lab Browser' });
    await editor.getByRole('textbox', { name: 'Destinations' }).fill(`${lab.servers.v4}/32`);
    await editor.getByRole('radio', { name: 'Encrypt' }).check();
    await editor.getByRole('combobox', { name: 'Tunnel' }).selectOption('sy-e2e');
    await editor.getByRole('combobox', { name: 'Key group' }).fill('Work Group');
    await editor.getByRole('textbox', { name: 'Name (optional)' }).fill('Lab Browser through sy-e2e/work');
    await editor.getByRole('button', { name: 'Add rule' }).click();
    // A name the protocol cannot carry is refused in the form, before anything is sent.
    await editor.getByText(/A key group is up to 24 lowercase letters/).waitFor();
    await editor.getByRole('combobox', { name: 'Key group' }).fill('work');
    await editor.getByRole('button', { name: 'Add rule' }).click();
    await editor.waitFor({ state: 'detached' });
    const made = (await ui.ask('rules.list', {})).rules.find(
      (r) => r.name === 'Lab Browser through sy-e2e/work',
    );
    expect(made?.action).toEqual({ type: 'encrypt', tunnel: 'sy-e2e', keyGroup: 'work' });
    await expect
      .poll(async () => page.getByRole('listitem', { name: /Lab Browser through sy-e2e\/work/ }).innerText())
      .toMatch(/Encrypt via sy-e2e \(key group work\)/);
    await page.getByRole('link', { name: 'Tunnels', exact: true }).click();
    // Lab Browser keeps one connection open, and a rule decides a flow when it starts: start it now.
    // It asks for the server by address: its name server is not reachable from the gateway.
    app = await lab.startApp('lab-browser', { args: ['--interval-ms', '250', '--host', lab.servers.v4] });
    const card = page.getByRole('region', { name: 'sy-e2e' });
    const group = card.getByRole('listitem', { name: 'work' });
    await expect.poll(async () => group.innerText(), { timeout: 45_000 }).toMatch(/Established/);
    const text = await group.innerText();
    expect(text).toMatch(/Last rekey .+\s· key epoch \d+/);
    expect(text).toContain('Lab Browser through sy-e2e/work');
    expect(text).toMatch(/Apps: Lab Browser/);
    // The app is listed as the tunnel's, and the helper agrees the group has a session.
    expect(await card.getByRole('list', { name: 'Apps of sy-e2e' }).innerText()).toContain('Lab Browser');
    const [t] = await ui.ask('tunnels.list', {});
    expect(t!.groups?.find((g) => g.name === 'work')?.established).toBe(true);

    // Its traffic goes through: the group's bytes, as shown, grow (the view re-reads them every 3 s).
    const sent = async () => bytesOf((/↑ ([^·]+)·/.exec(await group.innerText()) ?? ['', ''])[1]!);
    await expect.poll(sent, { timeout: 20_000 }).toBeGreaterThan(0);
    const before = await sent();
    await expect.poll(sent, { timeout: 20_000 }).toBeGreaterThan(before);
    // The lab's web server saw the gateway's address: the traffic really went through the tunnel.
    const log = await eventually(
      'Lab Browser through the gateway',
      () => app.readLog(),
      (l) => l.at(-1)?.serverSawAddress === lab.servers.gatewayV4,
    );
    expect(log.at(-1)!.ok).toBe(true);
    const tunnelSent = bytesOf((/↑ (.+) sent/.exec(await card.innerText()) ?? ['', ''])[1]!);
    expect(tunnelSent).toBeGreaterThan(0);
    await ui.shot('tunnels');
  });

  it('removes the tunnel from the UI after a confirmation, and the helper forgets it', async () => {
    const card = page.getByRole('region', { name: 'sy-e2e' });
    await card.getByRole('button', { name: 'Remove tunnel sy-e2e' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove tunnel sy-e2e?' });
    expect(await confirm.innerText()).toContain('Lab Browser through sy-e2e/work');
    await ui.shot('tunnel-remove', { keepNotices: true });
    await confirm.getByRole('button', { name: 'Remove tunnel' }).click();
    await confirm.waitFor({ state: 'detached' });
    await card.waitFor({ state: 'detached' });
    expect(await ui.ask('tunnels.list', {})).toEqual([]);
    // The rule now holds the app's traffic rather than send it in clear.
    const rule = (await ui.ask('rules.list', {})).rules.find(
      (r) => r.name === 'Lab Browser through sy-e2e/work',
    );
    expect(rule?.problem).toMatch(/sy-e2e/);
  });

  it('adds an app from its executable path and removes it, and the helper confirms each', async () => {
    await page.getByRole('link', { name: 'Apps' }).click();
    await page.getByRole('searchbox', { name: 'Search apps' }).fill('/usr/bin/sleep');
    await page.getByText('No apps match.').waitFor();
    await page.getByRole('button', { name: 'Add app “/usr/bin/sleep”…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add app' });
    expect(await dialog.getByRole('textbox', { name: 'Executable path' }).inputValue()).toBe(
      '/usr/bin/sleep',
    );
    await dialog.getByRole('textbox', { name: 'Name' }).fill('Sleeper');
    await ui.shot('app-add', { keepNotices: true });
    await dialog.getByRole('button', { name: 'Add app' }).click();
    await dialog.waitFor({ state: 'detached' });
    const added = await ui.ask('apps.get', { id: 'sleeper' });
    expect(added).toMatchObject({ name: 'Sleeper', source: 'manual', matchers: { exe: ['/usr/bin/sleep'] } });

    const detail = page.getByRole('complementary', { name: 'Details for Sleeper' });
    await detail.getByRole('button', { name: 'Remove Sleeper…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove Sleeper?' });
    await confirm.getByRole('button', { name: 'Remove app' }).click();
    await confirm.waitFor({ state: 'detached' });
    await detail.waitFor({ state: 'detached' });
    expect((await ui.ask('apps.list', {})).some((a) => a.id === 'sleeper')).toBe(false);
    // A catalog app has no Remove.
    await page.getByRole('searchbox', { name: 'Search apps' }).fill('Lab Browser');
    await page.getByRole('button', { name: 'Details for Lab Browser' }).click();
    const lab = page.getByRole('complementary', { name: 'Details for Lab Browser' });
    await lab.waitFor();
    expect(await lab.getByRole('button', { name: /^Remove/ }).count()).toBe(0);
  });
});
