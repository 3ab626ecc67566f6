// The `switchyard` CLI as a user meets it, against a real helper in the lab (issue 14): interfaces it
// cannot see, names in any case and typos, --help and global options, errors in the CLI's words,
// status with tunnels and a helper found without --socket, explain with a host name, tunnels, units.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App, Tunnel } from '../../native-helper/src/api/schema.ts';
import { type RunResult, run } from '../../native-helper/src/mechanism/exec.ts';
import { Lab } from '../lab/lab.ts';
import { type RunningHelper, SWITCHYARD, startHelper } from '../lab/switchyard-helper.ts';
import { eventually } from './support.ts';

const isRoot = process.getuid?.() === 0;

/** The environment of a user who set no SWITCHYARD_SOCKET. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.SWITCHYARD_SOCKET;
  return env;
}

describe.skipIf(!isRoot)('the switchyard CLI against a real helper', () => {
  let lab: Lab;
  let helper: RunningHelper;
  let work: string;
  let gatewayKey: string;

  /** `switchyard ARGS…` with --socket given first, as a global option. */
  const sy = (...args: string[]): Promise<RunResult> =>
    run([SWITCHYARD, '--socket', helper.socket, ...args], { allowFailure: true, env: userEnv() });
  const appOf = async (id: string) => JSON.parse((await sy('app', 'show', id, '--json')).stdout) as App;

  beforeAll(async () => {
    lab = await Lab.up({ prefix: Lab.randomPrefix(), startApps: true });
    helper = await startHelper(lab);
    work = await mkdtemp(join(tmpdir(), 'switchyard-cli-'));
    // A tunnel to a gateway that is not there: connecting now, a problem once its handshake gives up.
    const secret = (await run([SWITCHYARD, 'tunnel', 'keygen'])).stdout;
    gatewayKey = (await run([SWITCHYARD, 'tunnel', 'pubkey'], { input: secret })).stdout.trim();
    const added = await sy(
      'tunnel',
      'add',
      'sy-tun0',
      '--gateway',
      `${lab.servers.gatewayV4}:51820`,
      '--gateway-key',
      gatewayKey,
      '--address',
      '10.77.0.2/24',
    );
    expect(added.stderr).toBe('');
  });

  afterAll(async () => {
    await helper?.stop();
    await lab?.down();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('egress set refuses an interface the helper cannot see, names those it sees, and changes nothing', async () => {
    const r = await sy('egress', 'set', 'lab-chat', 'eth0');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      "switchyard: no interface 'eth0' here (the helper sees wlan0, enp3s0, sy-tun0). If it comes later (a tether or a dock), add --allow-absent.",
    );
    expect((await appOf('lab-chat')).choice).toEqual({ mode: 'default' });
    // A typo of one gets the nearest name.
    const typo = await sy('egress', 'set', 'lab-chat', 'wlan0', 'enp3s1');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain("no interface 'enp3s1' here");
    expect(typo.stderr).toContain('Did you mean enp3s0?');
    // The API refuses it too (the UI's path), unless told the interface comes later.
    const c = await helper.client();
    try {
      const choice = { mode: 'ordered' as const, egresses: ['eth0'], killSwitch: false };
      await expect(c.call('egress.set', { app: 'lab-chat', choice })).rejects.toMatchObject({
        code: 'NOT_FOUND',
        details: { absent: ['eth0'] },
      });
    } finally {
      c.close();
    }
  });

  it('override takes an interface in any case and refuses one the helper cannot see', async () => {
    const r = await sy('override', 'WLAN0');
    expect(r.stdout.trim()).toBe('everything goes through wlan0');
    const typo = await sy('override', 'wlan9');
    expect(typo.code).toBe(1);
    expect(typo.stderr.trim()).toBe(
      "switchyard: no interface 'wlan9' here (the helper sees wlan0, enp3s0, sy-tun0). Did you mean wlan0?",
    );
    expect((await sy('override', 'off')).stdout.trim()).toBe('override off');
  });

  it('--allow-absent takes an interface that comes later (a tether): the app uses the system default meanwhile', async () => {
    const r = await sy('egress', 'set', 'lab-updater', 'usb0', '--allow-absent');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^lab-updater: usb0; now fallback: system default/);
    const a = await appOf('lab-updater');
    expect(a.choice).toEqual({ mode: 'ordered', egresses: ['usb0'], killSwitch: false });
    expect(a.egress.state).toBe('fallback-default');
    expect((await sy('status')).stdout).toContain(
      'problem     lab-updater: none of usb0 is usable, so it uses the system default',
    );
    await sy('egress', 'set', 'lab-updater', 'default');
  });

  it('takes app ids, display names and interface names in any case, and suggests on a typo', async () => {
    const r = await sy('egress', 'set', 'Lab Chat', 'WLAN0', 'Enp3s0');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^lab-chat: wlan0 → enp3s0; now routed via wlan0/);
    expect((await appOf('LAB-CHAT')).choice).toEqual({
      mode: 'ordered',
      egresses: ['wlan0', 'enp3s0'],
      killSwitch: false,
    });
    const typo = await sy('egress', 'set', 'lab-chatt', 'wlan0');
    expect(typo.code).toBe(1);
    expect(typo.stderr.trim()).toBe(
      "switchyard: no app 'lab-chatt'. Did you mean lab-chat? `switchyard apps` lists them.",
    );
    const command = await sy('egres', 'set', 'lab-chat', 'wlan0');
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command 'egres set'. Did you mean egress set?");
    await sy('egress', 'set', 'lab-chat', 'default');
  });

  it('--help on commands and subcommands, global options before the command, group words alone', async () => {
    for (const words of [['egress', 'set'], ['tunnel', 'add'], ['tunnel', 'show'], ['explain'], ['status']]) {
      const r = await sy(...words, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: switchyard ${words.join(' ')}`));
    }
    const shown = await run([SWITCHYARD, '--json', '--socket', helper.socket, 'app', 'show', 'lab-chat'], {
      env: userEnv(),
    });
    expect((JSON.parse(shown.stdout) as App).id).toBe('lab-chat');
    for (const word of ['egress', 'tunnel', 'gateway', 'app', 'rule']) {
      const r = await sy(word);
      expect(r.code).toBe(2);
      expect(r.stdout.split('\n')[0]).toBe(`usage: switchyard ${word} COMMAND [options]`);
    }
    // A family word that does something alone: `switchyard mode` shows the mode in force.
    const mode = await sy('mode');
    expect(mode.code).toBe(0);
    expect(mode.stdout.trim()).toBe('include mode: only the apps given a choice are routed');
    expect((await sy('mode', 'inclde')).stderr).toContain('Did you mean mode include?');
    expect((await sy('tunnel')).stdout).toContain('switchyard tunnel show NAME');
    expect((await sy('egress')).stdout).toContain('switchyard egress set APP');
  });

  it('errors name the flags people typed, never API paths', async () => {
    const noMatcher = await sy('app', 'add', '--name', 'Tool');
    expect(noMatcher.code).toBe(1);
    expect(noMatcher.stderr.trim()).toBe(
      'switchyard: give at least one of --exe PATH, --cmdline REGEX, --desktop-id ID or --flatpak-id ID',
    );
    const relative = await sy('app', 'add', '--name', 'Tool', '--exe', 'bin/tool');
    expect(relative.stderr.trim()).toBe('switchyard: --exe: exe paths must be absolute');
    const key = await sy(
      'tunnel',
      'add',
      't2',
      '--gateway',
      'gw:1',
      '--gateway-key',
      'x',
      '--address',
      '10.0.0.2/24',
    );
    expect(key.stderr.trim()).toBe('switchyard: --gateway-key: a key is 32 bytes in base64 (44 characters)');
    const gateway = await sy(
      'tunnel',
      'add',
      't3',
      '--gateway',
      'gw.example',
      '--gateway-key',
      gatewayKey,
      '--address',
      '10.0.0.3/24',
    );
    expect(gateway.stderr.trim()).toBe(
      "switchyard: --gateway 'gw.example' is not HOST:PORT (e.g. 203.0.113.7:51900)",
    );
    await sy('app', 'add', '--name', 'Tool', '--id', 'tool', '--exe', '/usr/local/bin/tool-not-there');
    const launch = await sy('launch', 'Tool');
    expect(launch.code).toBe(1);
    expect(launch.stderr.trim()).toBe(
      'switchyard: Tool has no command to launch (no desktop entry); start one with `switchyard run --app APP -- COMMAND`',
    );
    for (const r of [noMatcher, relative, key, gateway, launch])
      expect(r.stderr).not.toMatch(/apps\.add|tunnels\.add|matchers|gatewayPublicKey/);
  });

  it('explain resolves a host name as the app would, and fails fast and clearly when it cannot', async () => {
    // server.lab exists only in the lab's DNS, which lab-chat's resolv.conf names (the host's does not).
    const e = JSON.parse((await sy('explain', 'lab-chat', 'server.lab:80', '--json')).stdout) as {
      destination: { host: string; address: string; port: number };
      verdict: string;
    };
    expect(e.destination).toMatchObject({ host: 'server.lab', address: lab.servers.v4, port: 80 });
    expect(['egress', 'default']).toContain(e.verdict);
    const text = (await sy('explain', 'lab-chat', 'server.lab')).stdout;
    expect(text.split('\n')[0]).toBe(`lab-chat → server.lab (${lab.servers.v4}) tcp/443`);
    // An app that is not running: the caller's view, here the lab desktop's.
    await sy('app', 'add', '--name', 'Probe', '--id', 'probe', '--exe', '/usr/local/bin/probe-not-running');
    const inDesktop = await lab.run(
      'desktop',
      [SWITCHYARD, 'explain', 'probe', 'server.lab', '--socket', helper.socket],
      {
        allowFailure: true,
        env: userEnv(),
      },
    );
    expect(inDesktop.stdout).toContain(`probe → server.lab (${lab.servers.v4}) tcp/443`);
    // A name nobody answers for: refused within the bound (1.5 s in the helper), not after 5 s.
    const started = Date.now();
    const nx = await sy('explain', 'lab-chat', 'nothing-here.invalid');
    const took = Date.now() - started;
    expect(nx.code).toBe(1);
    expect(nx.stderr).toMatch(
      /^switchyard: explain: nothing-here\.invalid:443: (the helper cannot resolve nothing-here\.invalid|no answer for nothing-here\.invalid within 1\.5 s)/,
    );
    console.log(`explain of an unresolvable name: refused after ${took} ms (CLI start included)`);
    expect(took).toBeLessThan(4000);
  });

  it('launch says an app started only when it still runs, and says so when it died at once', async () => {
    const entry = (name: string, exec: string) =>
      `[Desktop Entry]\nType=Application\nName=${name}\nExec=${exec}\n`;
    await writeFile(
      join(lab.dataDir, 'applications', 'sy-dies.desktop'),
      entry('Dies At Once', '/bin/false'),
    );
    await writeFile(join(lab.dataDir, 'applications', 'sy-sleeps.desktop'), entry('Sleeps', '/bin/sleep 30'));
    await sy('apps', '--rescan');
    const dies = await sy('launch', 'dies at once');
    expect(dies.code).toBe(1);
    expect(dies.stderr).toMatch(
      /^switchyard: sy-dies \(pid \d+\) exited within 1\.5 s; nothing of it runs now\. Start it in a terminal to see why\.$/m,
    );
    const sleeps = await sy('launch', 'Sleeps');
    expect(sleeps.stderr).toBe('');
    expect(sleeps.stdout).toMatch(/^started sy-sleeps \(pid (\d+)\); running: \d+/);
  });

  it('units are the UI units: kB/s rates, ms latencies', async () => {
    const apps = (await sy('apps')).stdout;
    expect(apps).toMatch(/ (k|M)?B\/s \/ /);
    expect(apps).not.toMatch(/bit\/s|KiB|MiB/);
    const events = (await sy('events', '--history', '200', '--no-follow')).stdout;
    const adopted = events.split('\n').filter((l) => l.includes(' adopted '));
    expect(adopted.length).toBeGreaterThan(0);
    for (const l of adopted) expect(l).toMatch(/ in (<?\d+(\.\d+)? ms|\d+\.\d+ s)$/);
  });

  it('status finds a lone running helper when the default socket is absent, and asks when there are several', async () => {
    const inRunDir = async (names: string[], args: string[]) => {
      // A private /run/switchyard holding only these names, each the lab helper's socket.
      const stage = await mkdtemp(join(work, 'run-'));
      const script = [
        `mount -t tmpfs tmpfs ${stage}`,
        ...names.map((n) => `touch ${stage}/${n} && mount --bind ${helper.socket} ${stage}/${n}`),
        `mount --rbind ${stage} /run/switchyard`,
        `exec "$@"`,
      ].join(' && ');
      return run(
        ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', SWITCHYARD, ...args],
        {
          allowFailure: true,
          env: userEnv(),
        },
      );
    };
    const one = await inRunDir([`${helper.instance}.sock`], ['status']);
    expect(one.code).toBe(0);
    expect(one.stderr.trim()).toBe(
      `switchyard: no helper at /run/switchyard/helper.sock; using instance ${helper.instance} at /run/switchyard/${helper.instance}.sock`,
    );
    expect(one.stdout).toMatch(new RegExp(`^helper +running .*instance ${helper.instance}\\)`, 'm'));
    const several = await inRunDir(['work.sock', 'lab.sock'], ['status']);
    expect(several.code).toBe(1);
    expect(several.stdout).toBe('');
    expect(several.stderr).toContain('no helper at /run/switchyard/helper.sock, but 2 are running:');
    expect(several.stderr).toContain('/run/switchyard/lab.sock');
    expect(several.stderr).toContain('/run/switchyard/work.sock');
    expect(several.stderr).toMatch(/pick one with --instance NAME .* or --socket PATH/);
  });

  it('status, tunnels and tunnel show: the tunnel, its short problem in the list, the whole of it in show', async () => {
    await sy('egress', 'set', 'lab-chat', 'sy-tun0', '--kill-switch');
    const status = (await sy('status')).stdout;
    expect(status).toMatch(/^tunnels +sy-tun0 (connecting|down)$/m);
    expect(status).toMatch(/^kill switch blocking lab-chat$/m);
    // Its device says the same word, not "up, no route".
    expect((await sy('interfaces')).stdout).toMatch(/^sy-tun0 +tunnel +(connecting|down) /m);
    // The handshake gives up after 60 s; then the tunnel has a problem everyone shows.
    const [t] = await eventually(
      'the tunnel to report its problem',
      async () => JSON.parse((await sy('tunnels', '--json')).stdout) as Tunnel[],
      (list) => !!list[0]?.problem,
      90_000,
    );
    const problem = t!.problem!;
    expect((await sy('status')).stdout).toContain(`problem     tunnel sy-tun0: ${problem}`);
    const table = (await sy('tunnels')).stdout.split('\n');
    expect(table[0]).toMatch(/^TUNNEL +STATE +PROBLEM +GATEWAY/);
    expect(table[1]).toMatch(
      new RegExp(`^sy-tun0 +\\S+ +.{1,33}… +${lab.servers.gatewayV4.replaceAll('.', '\\.')}:51820`),
    );
    expect(table[1]).not.toContain(problem);
    for (const l of table) expect(l.length).toBeLessThanOrEqual(120);
    const show = (await sy('tunnel', 'show', 'SY-TUN0')).stdout;
    expect(show).toContain(`problem:     ${problem}`);
    expect(show).toMatch(/holds: +lab-chat \(kill switch/);
    // Traffic in the UI's units, when the data path counted any.
    if (t!.txBytes === undefined) expect(show).not.toContain('traffic:');
    else expect(show).toMatch(/traffic: +sent \d+(\.\d)? (k|M)?B, received \d+(\.\d)? (k|M)?B$/m);
    const rm = await sy('tunnel', 'rm', 'sy-tun');
    expect(rm.code).toBe(1);
    expect(rm.stderr).toContain('Did you mean sy-tun0?');
    const typo = await sy('tunnel', 'show', 'sy-tun');
    expect(typo.stderr.trim()).toBe(
      "switchyard: no tunnel 'sy-tun' (the tunnels are sy-tun0). Did you mean sy-tun0?",
    );
  }, 150_000);
});
