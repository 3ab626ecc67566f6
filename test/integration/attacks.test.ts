// Attacks on the helper, each one reproduced as an attacker or a careless admin would (docs/security.md
// states the promises these check). A member of the `switchyard` group is the attacker unless named.
import { chmod, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { output, run } from '../../native-helper/src/mechanism/exec.ts';
import { Lab } from '../lab/lab.ts';
import { RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
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
});
