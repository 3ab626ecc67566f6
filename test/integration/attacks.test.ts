// Attacks on the helper, each one reproduced as an attacker or a careless admin would (docs/security.md
// states the promises these check). A member of the `switchyard` group is the attacker unless named.
import { chmod, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { output, run } from '../../native-helper/src/mechanism/exec.ts';
import { instanceCgroups } from '../lab/cleanup.ts';
import { Lab } from '../lab/lab.ts';
import { NEVER_READS, holdConnections } from '../lab/socket-clients.ts';
import { RunningHelper, SWITCHYARD, startHelper } from '../lab/switchyard-helper.ts';
import { eventually } from './support.ts';

const isRoot = process.getuid?.() === 0;

const NOBODY = 65534;

/** One request over the socket, sent by a process running as uid/gid 65534 in the switchyard group. */
async function asGroupMember(socket: string, request: object, env: Record<string, string> = {}) {
  const gid = (await output(['getent', 'group', 'switchyard'])).split(':')[2]!;
  const script = `
    const s = require('net').connect(process.argv[1]);
    s.on('connect', () => s.write(process.argv[2] + '\\n'));
    let buf = '';
    s.on('data', (d) => { buf += d; if (buf.includes('\\n')) { console.log(buf.split('\\n')[0]); s.destroy(); } });
    s.on('error', (e) => { console.log(JSON.stringify({ socketError: e.message })); });`;
  const r = await run(
    [
      'setpriv',
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      `--groups=${gid}`,
      '--',
      '/usr/bin/env',
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      process.execPath,
      '-e',
      script,
      socket,
      JSON.stringify(request),
    ],
    { allowFailure: true },
  );
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
    result?: { pid: number };
    error?: { code: string; message: string };
  };
}

describe.skipIf(!isRoot)('attacks on the helper', () => {
  let lab: Lab;
  let helper: RunningHelper;
  let work: string;

  beforeAll(async () => {
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    helper = await startHelper(lab);
    work = await mkdtemp(join(tmpdir(), 'switchyard-attack-'));
    await chmod(work, 0o777);
  });

  afterAll(async () => {
    await helper?.stop();
    await lab?.down();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("apps.launch never runs the caller's LD_PRELOAD (or anything of theirs) as root", async () => {
    // A probe library whose constructor records who loaded it.
    const src = join(work, 'probe.c');
    const log = join(work, 'preload.log');
    await writeFile(
      src,
      `#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void probe(void) {
  FILE *f = fopen("${log}", "a");
  if (!f) return;
  char exe[256] = {0};
  readlink("/proc/self/exe", exe, sizeof exe - 1);
  fprintf(f, "euid=%d exe=%s\\n", (int)geteuid(), exe);
  fclose(f);
}
`,
    );
    const lib = join(work, 'probe.so');
    await run(['cc', '-shared', '-fPIC', '-o', lib, src]);
    await writeFile(log, '');
    await chmod(log, 0o666);

    const appOut = join(work, 'app.out');
    const r = await asGroupMember(
      helper.socket,
      {
        id: 1,
        method: 'apps.launch',
        params: {
          id: 'lab-chat',
          command: ['/bin/sh', '-c', `{ id -u; cat /proc/self/cgroup; } > ${appOut}`],
        },
      },
      { LD_PRELOAD: lib, PATH: `${work}:/usr/bin:/bin` },
    );
    expect(r.error).toBeUndefined();
    expect(r.result?.pid).toBeGreaterThan(1);
    // The app ran, as the caller, inside the app's cgroup.
    const out = await eventually(
      'the launched app to write its output',
      async () => (existsSync(appOut) ? readFile(appOut, 'utf8') : ''),
      (t) => t.includes('0::'),
    );
    expect(out.split('\n')[0]).toBe(String(NOBODY));
    expect(out).toMatch(new RegExp(`0::.*/switchyard\\.${helper.instance}/app-`));
    // The caller's own node loaded the probe as nobody (the control); no root process ever did.
    const lines = (await readFile(log, 'utf8')).trim().split('\n').filter(Boolean);
    expect(lines.some((l) => l.startsWith(`euid=${NOBODY} `))).toBe(true);
    expect(lines.filter((l) => l.startsWith('euid=0 '))).toEqual([]);
  });
  it('a full disk fails the change with a clear error and keeps the previous policy file', async () => {
    // A helper whose state directory is a 256 KiB tmpfs of its own (in its own mount namespace).
    const small = new RunningHelper(lab, {
      instance: `${lab.prefix}-d`,
      wrap: [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        'mount -t tmpfs -o size=256k,mode=700 tmpfs "$0" && exec "$@"',
        join('/run/switchyard-lab', lab.prefix, 'small-state'),
      ],
      stateDir: join('/run/switchyard-lab', lab.prefix, 'small-state'),
    });
    await small.start();
    try {
      await small.cli(['egress', 'set', 'lab-chat', 'wlan0']);
      const stateDir = `/proc/${small.pid}/root${small.stateDir}`;
      const before = await readFile(join(stateDir, 'policy.json'), 'utf8');
      // Fill the disk to the last byte.
      const fill = await open(join(stateDir, 'filler'), 'w');
      try {
        for (;;) await fill.write(Buffer.alloc(4096, 1));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        await fill.close();
      }
      const r = await small.cli(['egress', 'set', 'lab-chat', 'enp3s0', '--kill-switch'], {
        allowFailure: true,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /cannot save the policy to .*policy\.json \(ENOSPC\); the change was not made/,
      );
      expect(await readFile(join(stateDir, 'policy.json'), 'utf8')).toBe(before);
      JSON.parse(before);
      const status = JSON.parse((await small.cli(['status', '--json'])).stdout) as {
        health: string;
        problems: string[];
      };
      expect(status.health).toBe('degraded');
      expect(status.problems.some((p) => p.includes('ENOSPC'))).toBe(true);
      const app = JSON.parse((await small.cli(['app', 'show', 'lab-chat', '--json'])).stdout) as {
        choice: unknown;
      };
      expect(app.choice).toMatchObject({ mode: 'ordered', egresses: ['wlan0'], killSwitch: false });
      // Space again: the same change goes through and the problem is gone.
      await rm(join(stateDir, 'filler'));
      await small.cli(['egress', 'set', 'lab-chat', 'enp3s0', '--kill-switch']);
      const after = JSON.parse((await small.cli(['status', '--json'])).stdout) as { problems: string[] };
      expect(after.problems.filter((p) => p.includes('ENOSPC'))).toEqual([]);
    } finally {
      await small.stop();
    }
  });
  it('a catastrophic cmdline pattern does not freeze the helper, and its own nft and ip are never adopted', async () => {
    await helper.cli(['app', 'add', '--name', 'Backtrack', '--id', 'backtrack', '--cmdline', '(a+)+b']);
    await helper.cli([
      'app',
      'add',
      '--name',
      'Tools',
      '--id',
      'tools',
      '--cmdline',
      '^(/usr/sbin/|/sbin/)?(nft|ip) -',
    ]);
    // 40 a's: a backtracking engine would need about 2^40 steps for this one process.
    const victim = await lab.spawn('desktop', ['sh', '-c', 'sleep 60', 'a'.repeat(40)]);
    try {
      // The helper runs nft and ip for each of these; it must stay responsive and leave them alone.
      for (const e of ['wlan0', 'enp3s0', 'wlan0,enp3s0', 'default'])
        await helper.cli(['egress', 'set', 'lab-updater', e]);
      const apps = JSON.parse((await helper.cli(['apps', '--json'])).stdout) as Array<{
        id: string;
        pids: number[];
      }>;
      expect(apps.find((a) => a.id === 'tools')?.pids).toEqual([]);
      const events = (await helper.cli(['events', '--history', '5000', '--no-follow', '--json'])).stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event: string; data: { app?: string; exe?: string } });
      const adoptions = events.filter((e) => e.event === 'adoption');
      expect(adoptions.filter((e) => e.data.app === 'tools')).toEqual([]);
    } finally {
      victim.kill('SIGKILL');
    }
  });

  it('a flood of explain lookups that never resolve leaves explain answering, quickly or with a clear refusal', async () => {
    const started = Date.now();
    const flood = Array.from({ length: 200 }, (_, i) =>
      helper.client().then((c) =>
        c
          .call('explain', { app: 'lab-chat', destination: `nx${i}.flood.example:443`, protocol: 'tcp' })
          .then(
            () => ({ ok: true, ms: Date.now() - started }),
            (e: Error) => ({ ok: false, ms: Date.now() - started, message: e.message }),
          )
          .finally(() => c.close()),
      ),
    );
    // Meanwhile explain with an address needs no lookup and answers.
    const direct = JSON.parse(
      (await helper.cli(['explain', '--app', 'lab-chat', '--dst', `${lab.servers.v4}:80`, '--json'])).stdout,
    ) as { verdict: string };
    expect(direct.verdict).toBeDefined();
    const results = await Promise.all(flood);
    const refused = results.filter((r) => !r.ok) as Array<{ message: string; ms: number }>;
    expect(refused.length).toBe(results.length);
    expect(
      refused.every((r) =>
        /busy with name lookups|too many name lookups|no answer for|cannot resolve/.test(r.message),
      ),
    ).toBe(true);
    const worst = Math.max(...results.map((r) => r.ms));
    console.log(`explain flood: 200 lookups, worst answer after ${worst} ms`);
    // A later explain with a host name is answered or refused, never left waiting.
    const later = await helper.cli(['explain', '--app', 'lab-chat', '--dst', 'later.flood.example:443'], {
      allowFailure: true,
    });
    expect(later.code).toBe(1);
    expect(later.stderr).toMatch(/explain: later\.flood\.example:443: /);
  });

  it('caps connections per uid and in all, and drops clients that stop reading', async () => {
    // 6 group members open 100 connections each and hold them.
    const counts = await Promise.all(
      [60001, 60002, 60003, 60004, 60005, 60006].map((uid) => holdConnections(helper.socket, uid, 100, 3000)),
    );
    for (const c of counts) {
      expect(c.open).toBeLessThanOrEqual(32);
      expect(c.refused).toBeGreaterThanOrEqual(68);
      expect(c.reasons.some((r) => /too many connections from uid \d+ \(32\)/.test(r))).toBe(true);
    }
    // Root still gets in while they are held: the helper keeps serving.
    await helper.cli(['status']);
    // A client that asks for a lot and never reads is cut off, with the reason in the log.
    const reader = run([process.execPath, '-e', NEVER_READS, helper.socket, '4000', '1', '25000'], {
      timeoutMs: 60_000,
    });
    await eventually(
      'the helper to drop the client that does not read',
      async () => helper.log(),
      (log) => /dropped a client \(pid \d+, uid 0\): it stopped reading/.test(log),
      30_000,
    );
    await reader;
    await helper.cli(['status']);
  });
  it('with only 400 descriptors and 600 connections held, the helper keeps working (no EMFILE)', async () => {
    const tight = new RunningHelper(lab, {
      instance: `${lab.prefix}-f`,
      wrap: ['prlimit', '--nofile=400', '--'],
    });
    await tight.start();
    try {
      const holding = Promise.all(
        Array.from({ length: 20 }, (_, i) => holdConnections(tight.socket, 62000 + i, 30, 6000)),
      );
      await new Promise((r) => setTimeout(r, 2000));
      const fds = readdirSync(`/proc/${tight.pid}/fd`).length;
      // Meanwhile root changes policy: the helper runs ip and nft, which need descriptors of their own.
      for (const e of ['wlan0', 'enp3s0', 'default']) await tight.cli(['egress', 'set', 'lab-chat', e]);
      const held = (await holding).map((h) => h.open);
      console.log(
        `400 descriptors: ${held.reduce((a, b) => a + b, 0)} of 600 connections held, ${fds} descriptors in use`,
      );
      expect(fds).toBeLessThan(400);
      expect(held.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(108);
      expect(tight.log()).not.toMatch(/EMFILE|cannot start|internal error/);
    } finally {
      await tight.stop();
    }
  });

  it('a helper that fails to start leaves nothing it created behind', async () => {
    // A second instance on the first one's socket: it gets as far as listening, then gives up.
    const second = new RunningHelper(lab, { instance: `${lab.prefix}-2` });
    const r = await run(
      [
        'nsenter',
        `--net=/run/netns/${lab.nsName('desktop')}`,
        '--',
        SWITCHYARD,
        'helper',
        '--instance',
        second.instance,
        '--socket',
        helper.socket,
        '--state-dir',
        second.stateDir,
        '--managed-policy',
        join(second.stateDir, 'managed.json'),
      ],
      { allowFailure: true },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot start: another helper is already listening/);
    expect(await instanceCgroups(second.instance)).toEqual([]);
    const tables = await lab.exec('desktop', ['nft', 'list', 'tables']);
    expect(tables).not.toContain(second.instance.replaceAll('-', '_'));
    await helper.cli(['status']); // the first one is untouched
  });

  it('a SIGKILLed helper leaves no ip monitor behind', async () => {
    const monitors = async () =>
      (await output(['ps', '-eo', 'pid=,ppid=,args=']))
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => Number(f[1]) === helper.pid && f.slice(2).join(' ').includes('monitor'))
        .map((f) => Number(f[0]));
    // The link watch, and the reconciler's kernel view (one per family).
    const before = await eventually('the helper to run its ip monitors', monitors, (m) => m.length === 3);
    await helper.kill();
    await eventually(
      'the monitors to end with the helper',
      async () => (await output(['ps', '-o', 'pid=', '-p', before.join(',')], {}).catch(() => '')).trim(),
      (left) => left === '',
    );
    await helper.start();
  });
});

describe.skipIf(!isRoot)('restarts and upgrades with a kill-switched app sending', () => {
  let lab: Lab;
  let helper: RunningHelper;
  let sender: Awaited<ReturnType<Lab['spawn']>> | null = null;

  beforeAll(async () => {
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    helper = await startHelper(lab);
  });

  afterAll(async () => {
    sender?.kill('SIGKILL');
    await helper?.stop();
    await lab?.down();
  });

  /** Packets to UDP port 4444 seen arriving at an uplink's ISP. */
  async function countAt(uplink: 'wlan0' | 'enp3s0'): Promise<number> {
    const out = await lab.exec(lab.uplink(uplink).ispRole, [
      'nft',
      '-j',
      'list',
      'counter',
      'inet',
      'sycount',
      'probe',
    ]);
    return (JSON.parse(out) as { nftables: Array<{ counter?: { packets: number } }> }).nftables.find(
      (x) => x.counter,
    )!.counter!.packets;
  }

  it('leaks no packet across 10 restarts, 10 upgrades in place and a lost policy file', async () => {
    for (const uplink of ['wlan0', 'enp3s0'] as const)
      await run(['ip', 'netns', 'exec', lab.uplink(uplink).ispNs, 'nft', '-f', '-'], {
        input: `table inet sycount { counter probe {}
          chain watch { type filter hook prerouting priority -300; udp dport 4444 counter name probe; }
        }\n`,
      });
    await helper.cli(['app', 'add', '--name', 'Sender', '--id', 'sender', '--cmdline', 'udp-sender-4444']);
    await helper.cli(['egress', 'set', 'sender', 'wlan0', '--kill-switch']);
    // Started through `switchyard run`: no matcher claims it by exe, only its cgroup says whose it is.
    sender = await lab.spawn('desktop', [
      SWITCHYARD,
      'run',
      '--app',
      'sender',
      '--socket',
      helper.socket,
      '--',
      process.execPath,
      '-e',
      `const s = require('dgram').createSocket('udp4');
       setInterval(() => s.send('x', 4444, '${lab.servers.v4}'), 5);`,
      'udp-other-name',
    ]);
    const senderPids = async () =>
      (JSON.parse((await helper.cli(['app', 'show', 'sender', '--json'])).stdout) as { pids: number[] }).pids;
    await eventually('the sender in its app', senderPids, (p) => p.length > 0);
    await eventually(
      'packets through wlan0',
      () => countAt('wlan0'),
      (n) => n > 20,
    );

    for (let i = 0; i < 20; i++) {
      await helper.terminate(); // what `systemctl restart` and a package upgrade send
      if (i >= 10) await new Promise((r) => setTimeout(r, 1000)); // an upgrade unpacks meanwhile
      await helper.start();
      expect(await senderPids()).not.toEqual([]); // recognised again by its cgroup
    }
    // A lost policy file next to this instance's kernel state: the helper refuses to start empty.
    await helper.terminate();
    const policy = join(helper.stateDir, 'policy.json');
    const saved = await readFile(policy, 'utf8');
    await rm(policy);
    await expect(helper.start(15_000)).rejects.toThrow(
      /policy .* is missing, but this instance's kernel state .* keeps failing closed/,
    );
    await new Promise((r) => setTimeout(r, 1000));
    await writeFile(policy, saved);
    await helper.start();

    const before = await countAt('wlan0');
    await eventually(
      'packets through wlan0 again',
      () => countAt('wlan0'),
      (n) => n > before + 20,
    );
    const leaked = await countAt('enp3s0');
    console.log(`restarts: ${await countAt('wlan0')} packets through wlan0, ${leaked} leaked through enp3s0`);
    expect(leaked).toBe(0);
  }, 300_000); // 21 helper starts of 2–4 s each on a loaded 2-core machine
});
