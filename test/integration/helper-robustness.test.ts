// The helper under hostile or unlucky conditions: strangers, garbage on the socket, a SIGKILL,
// a corrupt policy file. Real helper, real kernel, in a lab of its own.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodNames } from '../../native-helper/src/api/schema.ts';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { layoutFor } from '../../native-helper/src/layout/kernel-layout.ts';
import { Lab } from '../lab/lab.ts';
import { SWITCHYARD, RunningHelper } from '../lab/switchyard-helper.ts';
import { PROBE_MATCHER, addresses, parseProbe, probeArgv } from './support.ts';

const isRoot = process.getuid?.() === 0;

/**
 * Send raw bytes and collect the helper's responses (one JSON object a line) until no response has
 * come for quietMs. Events are left out: a garbage line may well have subscribed this connection.
 */
function raw(socketPath: string, payload: Buffer | string, quietMs = 300): Promise<unknown[]> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    let buf = '';
    let timer: NodeJS.Timeout;
    const responses = () =>
      buf
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((m) => !('event' in m));
    const finish = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(responses());
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    };
    let seen = 0;
    s.on('data', (d) => {
      buf += d.toString();
      const n = buf.split('\n').filter((l) => l && !l.startsWith('{"event"')).length;
      if (n !== seen) {
        seen = n;
        arm();
      }
    });
    s.on('error', finish);
    s.on('close', finish);
    s.on('connect', () => {
      s.write(payload);
      arm();
    });
  });
}

/** A small generator of hostile requests: wrong types, unknown methods, deep nesting, huge values. */
function* garbage(seed: number): Generator<string> {
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const values = [
    null,
    true,
    0,
    -1,
    1e308,
    'x',
    '',
    [],
    {},
    'a'.repeat(5000),
    { id: 'A B' },
    [1, [2, [3]]],
    '../../etc',
    '\u0000',
  ];
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)]!;
  for (let i = 0; i < 300; i++) {
    const method =
      rnd() < 0.7
        ? pick(methodNames)
        : pick(['', 'nope', '__proto__', 'constructor', 'apps.list.x', 'a'.repeat(99)]);
    const params =
      rnd() < 0.5
        ? {
            id: pick(values),
            app: pick(values),
            choice: pick(values),
            pid: pick(values),
            destination: pick(values),
          }
        : pick(values);
    const id = rnd() < 0.8 ? i : pick(values);
    yield JSON.stringify({ id, method, params, ...(rnd() < 0.1 ? { extra: 1 } : {}) });
  }
  yield '{"id": 1, "method": "status.get"'; // truncated
  yield 'not json at all';
  yield '[]';
  yield '{"id":1,"method":"status.get","params":' + '['.repeat(2000) + ']'.repeat(2000) + '}';
}

describe.skipIf(!isRoot)('helper robustness', () => {
  let lab: Lab;
  let helper: RunningHelper;

  beforeAll(async () => {
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    // World-writable socket so a stranger reaches the helper's own check (SO_PEERCRED), not just file modes.
    helper = new RunningHelper(lab, { socketMode: '666' });
    await helper.start();
  });

  afterAll(async () => {
    await helper?.stop();
    await lab?.down();
  });

  it('refuses a uid that is neither root nor in the switchyard group, with a clear error', async () => {
    const r = await run(
      [
        'setpriv',
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--',
        SWITCHYARD,
        'apps',
        '--socket',
        helper.socket,
      ],
      {
        allowFailure: true,
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not allowed: .*(switchyard|group)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('answers every malformed request with a typed error and keeps serving', async () => {
    const lines = [...garbage(42)];
    const answers = (await raw(helper.socket, lines.join('\n') + '\n', 1500)) as {
      id: unknown;
      error?: { code: string; message: string };
      result?: unknown;
    }[];
    expect(answers.length).toBeGreaterThan(250);
    const codes = new Set(answers.filter((a) => a.error).map((a) => a.error!.code));
    expect(
      [...codes].every((c) =>
        [
          'BAD_REQUEST',
          'UNKNOWN_METHOD',
          'NOT_FOUND',
          'UNAUTHORIZED',
          'CONFLICT',
          'MANAGED',
          // gateway.* on a desktop helper; a burst of findings.report
          'UNAVAILABLE',
          'RATE_LIMITED',
        ].includes(c),
      ),
    ).toBe(true);
    expect(codes.has('BAD_REQUEST')).toBe(true);
    expect(codes.has('UNKNOWN_METHOD')).toBe(true);
    expect(answers.some((a) => a.error?.code === 'INTERNAL')).toBe(false);
    // Random bytes, and a line longer than the limit.
    await raw(helper.socket, randomBytes(64 * 1024));
    const oversize = (await raw(helper.socket, 'x'.repeat(2 * 1024 * 1024) + '\n')) as {
      error?: { code: string };
    }[];
    expect(oversize[0]?.error?.code).toBe('BAD_REQUEST');
    const status = JSON.parse((await helper.cli(['status', '--json'])).stdout);
    expect(status.instance).toBe(helper.instance); // still answering
  });

  it('after SIGKILL keeps failing closed, and a restart leaves no duplicate state', async () => {
    const layout = layoutFor(helper.instance);
    await helper.cli(['app', 'add', '--name', 'Probe', '--id', 'probe', '--cmdline', PROBE_MATCHER]);
    await helper.cli(['egress', 'set', 'probe', 'wlan0', '--kill-switch']);
    const snapshot = async () => {
      const ns = lab.nsName('desktop');
      const rules = [4, 6].map(async (f) => (await run(['ip', '-n', ns, `-${f}`, 'rule'])).stdout);
      const tables = (await run(['ip', 'netns', 'exec', ns, 'nft', 'list', 'tables'])).stdout;
      return { rules: (await Promise.all(rules)).map((r) => r.trim()).join('\n\n'), tables };
    };
    // One run through `switchyard run` creates the app's cgroup, which outlives the helper.
    await lab.exec('desktop', [SWITCHYARD, 'run', '--app', 'probe', '--socket', helper.socket, '--', 'true']);
    const status0 = JSON.parse((await helper.cli(['status', '--json'])).stdout) as { cgroupRoot: string };
    const before = await snapshot();
    expect(before.rules).toContain('unreachable');

    await helper.kill();
    const dead = await snapshot();
    expect(dead).toEqual(before); // nothing was removed by the crash: the kill switch stays armed

    // While the helper is dead, wlan0 goes down: the app must not leak out of enp3s0.
    await lab.setUplink('wlan0', 'down');
    // Join the app's cgroup from the host (`ip netns exec` remounts /sys and hides it), then enter the lab.
    const cgroup = join(status0.cgroupRoot, 'app-probe', 'cgroup.procs');
    const { stdout } = await run([
      'sh',
      '-c',
      `echo $$ > ${cgroup} && exec ip netns exec ${lab.nsName('desktop')} "$@"`,
      'sh',
      ...probeArgv(lab, { managed: true, timeoutMs: 1000 }),
    ]);
    expect(addresses(parseProbe(stdout))).toEqual([null, null, null, null, null]);

    await helper.start();
    const after = await snapshot();
    expect(after).toEqual(before);
    for (const familyRules of after.rules.split('\n\n')) {
      const ours = familyRules.split('\n').filter((l) => {
        const prio = Number(l.split(':')[0]);
        return prio >= layout.priorities.first && prio <= layout.priorities.last;
      });
      expect(ours.length).toBeGreaterThan(0);
      expect(new Set(ours).size).toBe(ours.length); // no rule twice
    }
    expect(after.tables.match(new RegExp(layout.nftTable, 'g'))).toHaveLength(1);
    const apps = JSON.parse((await helper.cli(['apps', '--json'])).stdout) as {
      id: string;
      egress: { state: string };
    }[];
    expect(apps.find((a) => a.id === 'probe')?.egress.state).toBe('killed');
    await lab.setUplink('wlan0', 'up');
  });

  it('refuses to start on a corrupt policy file and leaves the kernel state failing closed', async () => {
    await helper.kill();
    const policy = join(helper.stateDir, 'policy.json');
    mkdirSync(helper.stateDir, { recursive: true });
    writeFileSync(policy, '{"version": 1, "apps": [ broken');
    const broken = new RunningHelper(lab, { socketMode: '666', stateDir: helper.stateDir });
    await expect(broken.start(15_000)).rejects.toThrow(/policy .* is not valid JSON/);
    const rules = (await run(['ip', '-n', lab.nsName('desktop'), 'rule'])).stdout;
    expect(rules).toContain('unreachable');
    writeFileSync(
      policy,
      JSON.stringify({ version: 1, apps: [], paused: false, override: null, egressTables: {} }),
    );
    await helper.start();
    const after = (await run(['ip', '-n', lab.nsName('desktop'), 'rule'])).stdout;
    expect(after).not.toContain('unreachable'); // the new, empty policy has no kill switch: reconciled away
  });
});

describe.skipIf(!isRoot)('managed policy', () => {
  let lab: Lab;
  let helper: RunningHelper;

  beforeAll(async () => {
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    helper = new RunningHelper(lab);
    mkdirSync(helper.stateDir, { recursive: true });
    writeFileSync(
      join(helper.stateDir, 'managed.json'),
      JSON.stringify({
        version: 1,
        apps: [
          {
            id: 'corp-vpn-only',
            name: 'Corp tool',
            matchers: { cmdline: 'corp-tool' },
            choice: { mode: 'ordered', egresses: ['wlan0'], killSwitch: true },
          },
        ],
      }),
    );
    await helper.start();
  });

  afterAll(async () => {
    await helper?.stop();
    await lab?.down();
  });

  it('pins a choice the user cannot change, and says so in the API', async () => {
    const app = JSON.parse((await helper.cli(['app', 'show', 'corp-vpn-only', '--json'])).stdout);
    expect(app).toMatchObject({
      managed: true,
      choice: { mode: 'ordered', egresses: ['wlan0'], killSwitch: true },
      egress: { state: 'routed', active: 'wlan0' },
    });
    const r = await helper.cli(['egress', 'set', 'corp-vpn-only', 'default'], { allowFailure: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/managed policy/);
    const rules = (await run(['ip', '-n', lab.nsName('desktop'), 'rule'])).stdout;
    expect(rules).toContain('unreachable'); // its kill switch is in force
  });

  it('follows changes to the file while running', async () => {
    writeFileSync(join(helper.stateDir, 'managed.json'), JSON.stringify({ version: 1, apps: [] }));
    const deadline = Date.now() + 15_000;
    let app = JSON.parse((await helper.cli(['app', 'show', 'corp-vpn-only', '--json'])).stdout);
    while (app.managed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      app = JSON.parse((await helper.cli(['app', 'show', 'corp-vpn-only', '--json'])).stdout);
    }
    expect(app.managed).toBe(false);
    const r = await helper.cli(['egress', 'set', 'corp-vpn-only', 'default']);
    expect(r.code).toBe(0);
  });

  it('reports a broken managed file as a problem and keeps the last good pins', async () => {
    writeFileSync(
      join(helper.stateDir, 'managed.json'),
      JSON.stringify({ version: 1, apps: [{ id: 'corp-vpn-only', choice: { mode: 'block' } }] }),
    );
    const pinned = Date.now() + 15_000;
    while (
      !JSON.parse((await helper.cli(['app', 'show', 'corp-vpn-only', '--json'])).stdout).managed &&
      Date.now() < pinned
    ) {
      await new Promise((r) => setTimeout(r, 500));
    }
    writeFileSync(join(helper.stateDir, 'managed.json'), '{ nope');
    const deadline = Date.now() + 15_000;
    let status = JSON.parse((await helper.cli(['status', '--json'])).stdout);
    while (!status.problems.some((p: string) => p.includes('managed policy')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      status = JSON.parse((await helper.cli(['status', '--json'])).stdout);
    }
    expect(status.health).toBe('degraded');
    expect(status.problems.join(' ')).toMatch(/managed policy .* is not valid JSON/);
    const app = JSON.parse((await helper.cli(['app', 'show', 'corp-vpn-only', '--json'])).stdout);
    expect(app).toMatchObject({ managed: true, choice: { mode: 'block' }, egress: { state: 'blocked' } });
  });
});
