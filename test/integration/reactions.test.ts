// Events that create rules, in the lab with real packets and a real ClamAV: an app writes the EICAR
// file, clamd finds it and its VirusEvent runs `switchyard flag --clamav`; the helper traces the file to
// the app that wrote it and blocks that app, with no packet in clear after the finding, and the audit
// shows the whole chain. Then: hostile and garbage reports, a schedule across a helper restart, and a
// move to an unknown network that encrypts the Work group.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelperSocketClient } from '../../native-helper/src/api/client.ts';
import type { AuditEntry, EventEnvelope, Network } from '../../native-helper/src/api/schema.ts';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { genkey, pubkey } from '../../native-helper/src/tunnel/keys.ts';
import { Lab, type LabUplink } from '../lab/lab.ts';
import { type Clamd, startClamd } from '../lab/servers/clamd.ts';
import { REPO, SWITCHYARD, type RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
import { MarkerCaptures } from './marker-captures.ts';
import { eventually } from './support.ts';

const isRoot = process.getuid?.() === 0;
const FIXTURES = join(REPO, 'test/integration/fixtures');
const PORT = 7201;

describe.skipIf(!isRoot)('events create rules (real ClamAV, real packets)', () => {
  let lab: Lab;
  let helper: RunningHelper;
  let api: HelperSocketClient;
  let clamd: Clamd;
  let work: string;
  let wlan: LabUplink;
  let captures: MarkerCaptures;
  const events: EventEnvelope[] = [];

  const cli = (args: string[]) =>
    run([SWITCHYARD, ...args, '--socket', helper.socket], { allowFailure: true });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sy-events-'));
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    wlan = lab.uplinks.find((u) => u.ifname === 'wlan0')!;
    helper = await startHelper(lab);
    api = await helper.client();
    api.onEvent((e) => events.push(e));
    await api.subscribe(['app.flagged', 'audit.appended', 'reactions.changed']);
    await lab.spawn('internet', [
      'python3',
      join(FIXTURES, 'port-echo.py'),
      String(PORT),
      lab.servers.v4,
      lab.servers.v6,
    ]);
    captures = await MarkerCaptures.start(lab, work);
    await helper.cli([
      'app',
      'add',
      '--name',
      'Downloader',
      '--id',
      'downloader',
      '--cmdline',
      'eicar-app\\.py',
    ]);
    await helper.cli(['egress', 'set', 'downloader', 'wlan0']);
    clamd = await startClamd({
      dir: join(work, 'clamd'),
      virusEvent: `${SWITCHYARD} flag --clamav --socket ${helper.socket}`,
    });
  });

  afterAll(async () => {
    if (process.env.SY_DEBUG) console.log(helper?.log());
    api?.close();
    await clamd?.stop();
    await helper?.stop();
    await lab?.down();
    rmSync(work, { recursive: true, force: true });
  });

  it('ClamAV flags the file an app wrote: the app is blocked, nothing in clear after the finding', async () => {
    const file = join(work, 'download.com');
    const app = spawn(
      'nsenter',
      [
        `--net=/run/netns/${lab.nsName('desktop')}`,
        '--',
        SWITCHYARD,
        'run',
        '--app',
        'downloader',
        '--socket',
        helper.socket,
        '--',
        'python3',
        join(FIXTURES, 'eicar-app.py'),
        file,
        lab.servers.v4,
        String(PORT),
        'FLAG',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    app.stdout!.on('data', (d) => (out += d));
    try {
      await eventually(
        'the app sending in clear',
        async () => out,
        (o) => o.includes(`SEEN ${wlan.v4.address}`),
        15_000,
      );
      const wroteAt = Number(/wrote (\d+)/.exec(out)![1]);

      // The captures on the ISP links see the stream in clear before the scan (else counting after it
      // would prove nothing).
      await eventually(
        'the captures seeing the app',
        async () => captures.sentTimes('FLAG').length,
        (n) => n >= 10,
        10_000,
      );
      const scanAt = Date.now();
      const verdict = await clamd.scan(file);
      expect(verdict.found).toMatch(/Eicar/i);
      const flagged = await eventually(
        'the flag',
        async () => events.find((e) => e.event === 'app.flagged'),
        (e) => e !== undefined,
        20_000,
      );
      expect(flagged!.data).toMatchObject({ app: 'downloader', source: 'clamav', severity: 'high' });

      const trail = await eventually(
        'the audit chain',
        async () => (await api.call('audit.list', { app: 'downloader' })) as AuditEntry[],
        (a) => a.some((x) => x.action === 'rule.created'),
        10_000,
      );
      const started = trail.find((x) => x.action === 'event.started')!;
      expect(started.message).toMatch(
        /flagged by clamav \(high\): Eicar.* found in .*download\.com; process \d+ .* of that app wrote it/,
      );
      expect(trail.filter((x) => x.action === 'rule.created').length).toBeGreaterThan(0);
      const reportedAt = Date.parse(started.time);

      // Replies stop; what the captures saw sent after the report: nothing.
      await new Promise((r) => setTimeout(r, 1500));
      const replies = out
        .split('\n')
        .filter((l) => /^\d{13} SEEN/.test(l))
        .map((l) => Number(l.split(' ')[0]));
      const lastReply = Math.max(...replies);
      const sent = captures.sentTimes('FLAG');
      // The captures saw the app in clear before the finding (else counting after it proves nothing).
      expect(sent.filter((t) => t < scanAt).length).toBeGreaterThanOrEqual(10);
      const lastClear = Math.max(...sent);
      const clearAfterReport = sent.filter((t) => t > reportedAt).length;
      const clearAfterScan = sent.filter((t) => t > scanAt).length;
      console.log(
        `ClamAV finding: write→scan ${scanAt - wroteAt} ms; scan→report ${reportedAt - scanAt} ms (clamd + VirusEvent + the CLI); ` +
          `report→rule in force ≤ ${Math.max(lastClear - reportedAt, 0)} ms; last reply ${lastReply - reportedAt} ms after the report; ` +
          `${clearAfterReport} packet(s) in clear after the report reached the helper, ${clearAfterScan} after the scan began`,
      );
      expect(clearAfterReport).toBe(0);
      expect(captures.sentTimes('FLAG').length).toBe(sent.length); // still nothing new

      // Unflag: the app's traffic flows again.
      const r = await cli(['unflag', 'downloader']);
      expect(r.stdout).toMatch(/1 event cleared/);
      const since = Date.now();
      await eventually(
        'replies again',
        async () => out.split('\n').filter((l) => /^\d{13} SEEN/.test(l) && Number(l.split(' ')[0]) > since),
        (l) => l.length > 0,
        10_000,
      );
      const all = (await api.call('audit.list', { app: 'downloader' })).map((x) => x.action);
      expect(all).toEqual(
        expect.arrayContaining(['event.started', 'rule.created', 'rule.removed', 'event.ended']),
      );
      // The CLI shows the same trail.
      expect((await cli(['audit', '--app', 'downloader'])).stdout).toMatch(/event\.ended .*cleared/);
    } finally {
      app.kill('SIGKILL');
    }
  });

  it('garbage and hostile reports get clear errors and make no rule', async () => {
    const rulesBefore = (await api.call('rules.list', {})).rules.length;
    const unknownApp = await cli(['flag', 'nosuchapp', '--reason', 'x']);
    expect(unknownApp.code).toBe(1);
    expect(unknownApp.stderr).toMatch(/no app 'nosuchapp'/);
    const outside = await cli(['flag', '--file', '/etc/hostname', '--reason', 'x']);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/no app Switchyard manages wrote, runs or has \/etc\/hostname open/);
    const relative = await cli(['flag', '--file', 'notes.txt', '--reason', 'x']);
    expect(relative.stderr).toMatch(/not an absolute path/);
    const noEnv = await cli(['flag', '--clamav']);
    expect(noEnv.code).toBe(2);
    expect(noEnv.stderr).toMatch(/CLAM_VIRUSEVENT_FILENAME/);
    // Not root and not in the switchyard group: refused before anything is read.
    const nobody = await run(
      [
        'setpriv',
        '--reuid',
        '65534',
        '--regid',
        '65534',
        '--clear-groups',
        SWITCHYARD,
        'flag',
        'downloader',
        '--reason',
        'x',
        '--socket',
        helper.socket,
      ],
      { allowFailure: true },
    );
    expect(nobody.code).not.toBe(0);
    expect(nobody.stderr).toMatch(/permission|not in the 'switchyard' group|EACCES/i);

    // A flood of 10,000 reports over one connection: limited, and the helper keeps answering.
    const codes = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 10_000 }, (_, i) =>
        api.call('findings.report', { app: `flood-${i % 50}`, reason: 'flood', source: 'flooder' }).then(
          () => codes.set('ok', (codes.get('ok') ?? 0) + 1),
          (err: { code: string }) => codes.set(err.code, (codes.get(err.code) ?? 0) + 1),
        ),
      ),
    );
    console.log(`flood of 10,000 reports: ${JSON.stringify(Object.fromEntries(codes))}`);
    expect(codes.get('ok')).toBeUndefined();
    expect(codes.get('RATE_LIMITED')).toBeGreaterThan(9000);
    expect((await api.call('status.get', {})).pid).toBe(helper.pid);
    expect((await api.call('rules.list', {})).rules.length).toBe(rulesBefore);
    const refused = (await api.call('audit.list', { limit: 10_000 })).filter(
      (x) => x.action === 'report.refused',
    );
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThan(10);
    await new Promise((r) => setTimeout(r, 4500)); // the bucket fills again
  });

  it('moving to an unknown network encrypts the Work group; moving back removes the rule', async () => {
    // A tunnel to encrypt through (its gateway never answers: the rule holds the traffic then).
    await helper.cli([
      'tunnel',
      'add',
      'sy-tun0',
      '--gateway',
      `${lab.servers.gatewayV4}:51999`,
      '--gateway-key',
      pubkey(genkey()),
      '--address',
      '10.79.0.2/24',
    ]);
    const nets = await eventually(
      "wlan0's network identified",
      async () => (await api.call('networks.list', {})).networks as Network[],
      (ns) =>
        lab.uplinks.every((u) => ns.some((n) => n.interfaces.includes(u.ifname) && n.fingerprint.gatewayMac)),
      15_000,
    );
    for (const n of nets.filter((x) => x.interfaces.length))
      await api.call('networks.setTrust', { id: n.id, trust: 'trusted' });
    const home = nets.find((n) => n.interfaces.includes('wlan0'))!;
    await helper.cli(['group', 'add', 'Work', 'downloader']);
    const workRules = async () =>
      (await api.call('rules.list', {})).rules.filter(
        (r) => r.layer === 'event' && r.match.subject.kind === 'group',
      );
    await eventually('no Work rule on known networks', workRules, (r) => r.length === 0, 10_000);

    const { upAt } = await lab.moveUplink(wlan.id);
    const made = await eventually('the Work rule', workRules, (r) => r.length === 1, 20_000);
    expect(made[0]).toMatchObject({
      action: { type: 'encrypt', tunnel: 'sy-tun0' },
      match: { subject: { group: 'Work' } },
    });
    console.log(
      `unknown network: the "encrypt Work" rule made ${Date.now() - upAt} ms or less after the uplink came up`,
    );

    await lab.moveUplink(wlan.id, home.fingerprint.gatewayMac!);
    await eventually('the Work rule gone', workRules, (r) => r.length === 0, 20_000);
    const trail = (await api.call('audit.list', {})).filter((x) => x.kind === 'network.unknown');
    expect(trail.map((x) => x.action)).toEqual(
      expect.arrayContaining(['event.started', 'rule.created', 'rule.removed', 'event.ended']),
    );
    await helper.cli(['tunnel', 'rm', 'sy-tun0']);
  });

  it('a schedule rule switches on and off at its minutes, across a helper restart', async () => {
    const { timeZone } = await api.call('reactions.get', {});
    await api.call('templates.set', {
      id: 'lunch-block',
      name: 'Downloader blocked over lunch',
      on: { kind: 'schedule', schedule: 'lunch' },
      covers: { kind: 'app', app: 'downloader' },
      action: { type: 'block' },
    });
    // The window: the next whole minute to the one after, in the helper's time zone.
    const start = Math.floor(Date.now() / 60_000) * 60_000 + 60_000;
    const hhmm = (t: number) =>
      new Intl.DateTimeFormat('en-GB', {
        timeZone,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(t);
    const day = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short' })
      .format(start)
      .toLowerCase()
      .slice(0, 3);
    await api.call('schedules.set', {
      name: 'lunch',
      days: [day as 'mon'],
      from: hhmm(start),
      to: hhmm(start + 60_000),
    });
    const scheduled = async () =>
      (await api.call('rules.list', {})).rules.filter(
        (r) => r.layer === 'event' && r.event?.template === 'lunch-block',
      );
    expect(await scheduled()).toEqual([]);

    // The helper is down when the window opens; it opens it when it comes back.
    api.close();
    await helper.terminate();
    await new Promise((r) => setTimeout(r, Math.max(start - Date.now() + 500, 0)));
    await helper.start();
    api = await helper.client();
    const on = await eventually('the lunch rule', scheduled, (r) => r.length === 1, 15_000);
    expect(on[0]!.expiresAt).toBe(new Date(start + 60_000).toISOString());
    // And closes it at the minute.
    await eventually('the lunch rule gone', scheduled, (r) => r.length === 0, 75_000);
    const offAt = Date.now();
    expect(offAt - (start + 60_000)).toBeLessThan(3000);
    expect(offAt).toBeGreaterThanOrEqual(start + 60_000);
  }, 200_000);
});
