// The helper on a machine as Debian 12 installs it: nothing mounted at /sys/fs/bpf. It mounts bpffs
// itself (in its own mount namespace here, so the host is untouched), then tags and routes as usual.
// Where it cannot mount, it stops with one sentence naming the mount and the fix, and leaves nothing.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMountInfo } from '../../native-helper/src/mechanism/cgroup/mountinfo.ts';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { instanceCgroups } from '../lab/cleanup.ts';
import { Lab } from '../lab/lab.ts';
import { FRESH_MOUNTS, type RunningHelper, SWITCHYARD, startHelper } from '../lab/switchyard-helper.ts';
import { PROBE_MATCHER, addresses, probeAs } from './support.ts';

const isRoot = process.getuid?.() === 0;

/** The bpf mounts a process sees at /sys/fs/bpf. */
function bpfAtSysFs(pid: number | 'self'): string[] {
  return parseMountInfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'))
    .filter((m) => m.mountPoint === '/sys/fs/bpf')
    .map((m) => `${m.mountId} ${m.fsType}`);
}

describe.skipIf(!isRoot)('the helper on a fresh machine (no bpffs mounted)', () => {
  let lab: Lab;
  let helper: RunningHelper;
  const hostBefore = { self: [] as string[], init: [] as string[] };

  beforeAll(async () => {
    hostBefore.self = bpfAtSysFs('self');
    hostBefore.init = bpfAtSysFs(1);
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    helper = await startHelper(lab, { wrap: FRESH_MOUNTS });
  });

  afterAll(async () => {
    await helper?.stop();
    await lab?.down();
  });

  it('mounts bpffs at /sys/fs/bpf in its own mount namespace and says so', () => {
    const inHelper = parseMountInfo(readFileSync(`/proc/${helper.pid}/mountinfo`, 'utf8'));
    expect(inHelper.filter((m) => m.mountPoint === '/sys/fs/bpf').map((m) => m.fsType)).toEqual(['bpf']);
    expect(helper.log()).toContain('mounted the BPF filesystem at /sys/fs/bpf');
    expect(existsSync(`/proc/${helper.pid}/root/sys/fs/bpf/switchyard-${helper.instance}/tags`)).toBe(true);
  });

  it("tags an app's sockets: its traffic leaves through the egress it was given", async () => {
    await helper.cli(['app', 'add', '--name', 'Probe', '--id', 'probe', '--cmdline', PROBE_MATCHER]);
    await helper.cli(['egress', 'set', 'probe', 'wlan0']);
    const wifi = lab.uplink('wlan0');
    const r = await probeAs(lab, helper, 'probe');
    expect(addresses(r)).toEqual([
      wifi.v4.address,
      wifi.v4.address,
      wifi.v6.address,
      wifi.v6.address,
      wifi.v4.address,
    ]);
    const status = JSON.parse((await helper.cli(['status', '--json'])).stdout) as { problems: string[] };
    expect(status.problems.filter((p) => /bpf|mount/i.test(p))).toEqual([]);
  });

  it("leaves the host's mounts untouched", () => {
    expect(bpfAtSysFs('self')).toEqual(hostBefore.self);
    expect(bpfAtSysFs(1)).toEqual(hostBefore.init);
  });
});

describe.skipIf(!isRoot)('the helper where bpffs cannot be mounted', () => {
  it('stops with one sentence naming the mount and the command, and leaves nothing behind', async () => {
    const instance = `sytfail${process.pid % 10000}`;
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-fresh-'));
    try {
      // A fresh machine's mounts, an empty network namespace of its own, and no CAP_SYS_ADMIN left.
      const r = await run(
        [
          ...FRESH_MOUNTS,
          'unshare',
          '--net',
          '--',
          'setpriv',
          '--inh-caps=-sys_admin',
          '--bounding-set=-sys_admin',
          '--',
          SWITCHYARD,
          'helper',
          '--instance',
          instance,
          '--socket',
          join(dir, 'helper.sock'),
          '--state-dir',
          join(dir, 'state'),
          '--managed-policy',
          join(dir, 'managed.json'),
        ],
        { allowFailure: true, timeoutMs: 60_000 },
      );
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /cannot start: the BPF filesystem is not mounted at \/sys\/fs\/bpf and the helper could not mount it \(no permission to mount.*\): run `mount -t bpf bpf \/sys\/fs\/bpf` as root/,
      );
      expect(await instanceCgroups(instance)).toEqual([]);
      expect(existsSync(join(dir, 'helper.sock'))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
