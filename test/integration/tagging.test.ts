// The tagging mechanisms against the real kernel: the cgroup/sock_create tagger, the proc connector,
// socket re-marking through pidfd_getfd, and clean removal. Needs root; everything is scoped by a
// unique instance name and network namespace and removed in afterAll.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { output, run } from '../../native-helper/src/mechanism/exec.ts';
import type { RunResult } from '../../native-helper/src/mechanism/exec.ts';
import {
  cgroupId,
  cgroupOfPid,
  ensureCgroup,
  findCgroup2Mount,
  listProcesses,
  removeCgroupTree,
} from '../../native-helper/src/mechanism/cgroup/index.ts';
import { ensureBpffs } from '../../native-helper/src/mechanism/bpf/bpffs.ts';
import { Tagger, TAG_FLAG_DENY, pinDirFor } from '../../native-helper/src/mechanism/bpf/tagger.ts';
import { ProcEvents, percentiles } from '../../native-helper/src/mechanism/proc/index.ts';
import type { ExecEvent } from '../../native-helper/src/mechanism/proc/index.ts';
import { measureAdoptionLatency } from '../../native-helper/src/mechanism/proc-testing/adoption-floor.ts';
import {
  AF_INET,
  AF_INET6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  listInetSockets,
  setSocketMark,
  shutdownSocket,
} from '../../native-helper/src/mechanism/sockets/index.ts';
import { native } from '../../native-helper/src/mechanism/native.ts';
import { REPO } from '../lab/switchyard-helper.ts';

const NATIVE_HELPER_DIR = path.join(REPO, 'native-helper');
import type { PeerCred } from '../../native-helper/src/mechanism/native.ts';

const suffix = randomBytes(4).toString('hex');
const instance = `syt${suffix}`;
const netns = `sy${suffix}`;
const pinDir = pinDirFor(instance);
const APP_MARK = 0x5a0007;

let mount = '';
let home = ''; // our own cgroup, where leftovers are moved before rmdir
let homeRel = '/';
let root = ''; // <cgroup2>/switchyard.<instance>
let appCg = '';
let work = '';
let tagger: Tagger | undefined;
const children: Child[] = [];

// A program that holds TCP (listener, client, accepted) and UDP (v4, v6) sockets, reports them in a
// JSON file, and records when its client connection is closed by the peer or a shutdown.
const HOLDER = String.raw`
const net = require('node:net'), dgram = require('node:dgram'), fs = require('node:fs');
const out = process.argv[2];
const keep = [];
const srv = net.createServer((s) => { keep.push(s); s.on('error', () => {}); });
srv.listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  const client = net.connect(port, '127.0.0.1', () => {
    const u4 = dgram.createSocket('udp4');
    u4.bind(0, '127.0.0.1', () => {
      const u6 = dgram.createSocket('udp6');
      u6.bind(0, '::1', () => {
        fs.writeFileSync(out, JSON.stringify({ pid: process.pid, listenPort: port, clientPort: client.localPort,
          udp4Port: u4.address().port, udp6Port: u6.address().port }));
      });
    });
  });
  client.on('error', () => {});
  client.on('end', () => fs.writeFileSync(out + '.closed', 'end'));
  client.on('close', () => { if (!fs.existsSync(out + '.closed')) fs.writeFileSync(out + '.closed', 'close'); });
});
setInterval(() => {}, 1000);
`;

// Tries to open an IPv4 socket (EPERM under a DENY tag) and a Unix socket (never touched).
const DENY_PROBE = String.raw`
const fs = require('node:fs'), net = require('node:net');
const out = process.argv[2];
const unix = net.createServer().listen(out + '.sock', () => {
  const u = require('node:dgram').createSocket('udp4');
  const done = (error) => { fs.writeFileSync(out, JSON.stringify({ error, unix: true })); process.exit(0); };
  u.on('error', (e) => done(e.code));
  u.bind(0, '127.0.0.1', () => done(null));
});
unix.on('error', (e) => { fs.writeFileSync(out, JSON.stringify({ unixError: e.code })); process.exit(0); });
`;

// Runs inside the test netns: listens to proc events through the initial netns given as argv[3],
// execs /bin/true and reports whether it was seen; for contrast, tries a connector in its own netns.
const NETNS_PROC_PROBE = `
import { readlinkSync, writeFileSync } from 'node:fs';
import { ProcEvents } from ${JSON.stringify(path.join(NATIVE_HELPER_DIR, 'src/mechanism/proc/events.ts'))};
import { run } from ${JSON.stringify(path.join(NATIVE_HELPER_DIR, 'src/mechanism/exec.ts'))};
const [out, initNs] = process.argv.slice(2);
const before = readlinkSync('/proc/thread-self/ns/net');
const viaInit = new Set();
const a = new ProcEvents().on('exec', (e) => viaInit.add(e.pid)).start({ netnsPath: initNs });
let ownNetnsError = null;
try {
  new ProcEvents().start({ netnsPath: '/proc/self/ns/net' }).stop();
} catch (err) {
  ownNetnsError = err.code;
}
const after = readlinkSync('/proc/thread-self/ns/net');
const child = run(['sh', '-c', 'echo $$ > "$0.pid"; exec /bin/true', out]);
await child;
const pid = Number((await import('node:fs')).readFileSync(out + '.pid', 'utf8'));
await new Promise((r) => setTimeout(r, 300));
a.stop();
writeFileSync(out, JSON.stringify({ pid, before, after, seenViaInit: viaInit.has(pid), ownNetnsError }));
`;

// Opens UDP sockets one after another (keeping them) until the file <out>.stop appears, then reports.
const CHURN = String.raw`
const fs = require('node:fs'), dgram = require('node:dgram');
const out = process.argv[2];
const keep = [];
fs.writeFileSync(out + '.started', String(process.pid));
const tick = () => {
  const u = dgram.createSocket('udp4');
  u.bind(0, '127.0.0.1', () => {
    keep.push(u);
    if (fs.existsSync(out + '.stop') || keep.length >= 5000) fs.writeFileSync(out, JSON.stringify({ sockets: keep.length }));
    else setTimeout(tick, 1);
  });
};
tick();
setInterval(() => {}, 1000);
`;

// Connects to the Unix socket argv[2], sends its pid, stays until the server hangs up.
const PEER = String.raw`
const s = require('node:net').connect(process.argv[2], () => s.write(String(process.pid)));
s.on('data', () => process.exit(0));
`;

interface Child {
  pid: number | null;
  done: Promise<RunResult>;
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/**
 * Starts `node <script> <out>` in the test netns, inside `cgroup` when given. The cgroup is joined
 * before `ip netns exec`, which remounts /sys in a private mount namespace (the cgroup2 mount is not
 * visible there); the cgroup survives the exec.
 */
function startInNetns(script: string, out: string, cgroup: string | null): Child {
  const inNetns = ['ip', 'netns', 'exec', netns, process.execPath, script, out];
  const argv = cgroup
    ? ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, ...inNetns]
    : inNetns;
  const child: Child = { pid: null, done: run(argv, { allowFailure: true, timeoutMs: 300_000 }) };
  children.push(child);
  return child;
}

interface HolderInfo {
  pid: number;
  listenPort: number;
  clientPort: number;
  udp4Port: number;
  udp6Port: number;
}

async function startHolder(name: string, cgroup: string | null): Promise<HolderInfo> {
  const out = path.join(work, `${name}.json`);
  const child = startInNetns(path.join(work, 'holder.cjs'), out, cgroup);
  const info = await waitFor(`${name} to open its sockets`, () => readJson<HolderInfo>(out));
  child.pid = info.pid;
  return info;
}

/** fwmarks per socket of a pid, as the kernel reports them to `ss` (0 when absent). */
async function ssMarks(pid: number): Promise<{ line: string; local: string; mark: number }[]> {
  const text = await output(['ip', 'netns', 'exec', netns, 'ss', '-tuaenpH']);
  return text
    .split('\n')
    .filter((l) => l.includes(`pid=${pid},`))
    .map((line) => ({
      line,
      local: line.trim().split(/\s+/)[4] ?? '', // netid state recv-q send-q LOCAL peer ...
      mark: parseInt(/fwmark:0x([0-9a-f]+)/.exec(line)?.[1] ?? '0', 16),
    }));
}

async function stopChild(pid: number | null): Promise<void> {
  if (pid === null) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function bpftoolAttachedIds(cgroupPath: string): Promise<number[]> {
  const text = await output(['bpftool', 'cgroup', 'show', cgroupPath, '-j']);
  const rows = JSON.parse(text.trim() || '[]') as { id: number; attach_type: string }[];
  return rows
    .filter((r) => r.attach_type === 'sock_create' || r.attach_type === 'cgroup_inet_sock_create')
    .map((r) => r.id);
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the tagging integration test needs root');
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  mount = await findCgroup2Mount();
  homeRel = (await cgroupOfPid(process.pid)) ?? '/';
  home = path.join(mount, homeRel);
  root = path.join(mount, `switchyard.${instance}`);
  appCg = path.join(root, 'app-7');
  work = await mkdtemp(path.join(tmpdir(), `${instance}-`));
  await writeFile(path.join(work, 'holder.cjs'), HOLDER);
  await writeFile(path.join(work, 'deny.cjs'), DENY_PROBE);
  await writeFile(path.join(work, 'netns-proc.mts'), NETNS_PROC_PROBE);
  await writeFile(path.join(work, 'peer.cjs'), PEER);
  await writeFile(path.join(work, 'churn.cjs'), CHURN);
  await run(['ip', 'netns', 'add', netns]);
  await run(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
  await ensureCgroup(appCg);
  ensureBpffs(); // as the helper does: a fresh machine has nothing mounted there
  tagger = new Tagger({ cgroupPath: root, pinDir });
});

/** Removes everything this run created; every step runs even if an earlier one failed. */
async function cleanup(): Promise<void> {
  const errors: unknown[] = [];
  const step = async (fn: () => Promise<unknown> | unknown): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      errors.push(err);
    }
  };
  for (const c of children) await step(() => stopChild(c.pid));
  await step(() => Promise.race([Promise.all(children.map((c) => c.done)), delay(5000)]));
  if (tagger && root)
    await step(() => (existsSync(root) || existsSync(pinDir) ? tagger?.detach() : undefined));
  if (root) await step(() => removeCgroupTree(root, { moveTo: home }));
  await step(() => run(['ip', 'netns', 'del', netns], { allowFailure: true }));
  if (work) await step(() => rm(work, { recursive: true, force: true }));
  if (errors.length) throw new AggregateError(errors, 'tagging test cleanup failed');
}

const onSignal = (signal: NodeJS.Signals): void => {
  void cleanup().finally(() => process.kill(process.pid, signal));
};

afterAll(async () => {
  process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  await cleanup();
});

describe('peer credentials', () => {
  it('peerCred reports the pid, uid and gid of the process on the other end of a Unix socket', async () => {
    await chmod(work, 0o755); // the peer runs as nobody
    const sockPath = path.join(work, 'peer.sock');
    const server = createServer();
    const got = new Promise<{ cred: PeerCred; sentPid: number }>((resolve, reject) => {
      server.on('connection', (conn) => {
        conn.once('data', (d) => {
          try {
            // Node keeps the fd of an accepted Unix socket on its handle; the daemon does the same.
            const fd = (conn as unknown as { _handle: { fd: number } })._handle.fd;
            resolve({ cred: native().peerCred(fd), sentPid: Number(d.toString()) });
          } catch (err) {
            reject(err as Error);
          }
          conn.end('bye');
        });
      });
    });
    await new Promise<void>((r) => server.listen(sockPath, r));
    await chmod(sockPath, 0o777);
    try {
      const peer = run([
        'setpriv',
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        path.join(work, 'peer.cjs'),
        sockPath,
      ]);
      const { cred, sentPid } = await got;
      await peer;
      expect(cred).toEqual({ pid: sentPid, uid: 65534, gid: 65534 });
      expect(() => native().peerCred(-1)).toThrow(/peerCred: getsockopt\(SO_PEERCRED\): EBADF/);
    } finally {
      server.close();
    }
  });
});

describe('tagging mechanisms', () => {
  let inside: HolderInfo;
  let outside: HolderInfo;
  let nested: HolderInfo;

  it('attaches the tagger once and pins program and map per instance', async () => {
    const res = tagger!.attach();
    expect(res.reusedMap).toBe(false);
    expect(res.replacedProgId).toBeNull();
    expect(existsSync(path.join(pinDir, 'tags'))).toBe(true);
    expect(existsSync(path.join(pinDir, 'sock_tag'))).toBe(true);
    expect(await bpftoolAttachedIds(root)).toEqual([res.progId]);
    tagger!.set(cgroupId(appCg), APP_MARK);
    expect(tagger!.list()).toEqual([{ cgroupId: cgroupId(appCg), mark: APP_MARK, flags: 0 }]);
  });

  it('cgroupId (file handle) equals the directory inode', () => {
    // That it also equals bpf_get_current_cgroup_id() is proven by the marking tests below: the map
    // is keyed by cgroupId() and the program looks it up by the kernel's id.
    expect(cgroupId(appCg)).toBe(statSync(appCg, { bigint: true }).ino);
  });

  it('marks TCP and UDP sockets created inside the app cgroup, not outside', async () => {
    inside = await startHolder('inside', appCg);
    outside = await startHolder('outside', null);
    expect(await cgroupOfPid(inside.pid)).toBe(`/switchyard.${instance}/app-7`);

    const insideSs = await ssMarks(inside.pid);
    // listener, client, accepted, udp4, udp6
    expect(insideSs.length).toBe(5);
    for (const s of insideSs) expect(s.mark, s.line).toBe(APP_MARK);
    const outsideSs = await ssMarks(outside.pid);
    expect(outsideSs.length).toBe(5);
    for (const s of outsideSs) expect(s.mark, s.line).toBe(0);

    const socks = listInetSockets(inside.pid);
    expect(socks.map((s) => s.mark)).toEqual(socks.map(() => APP_MARK));
    expect(
      socks
        .filter((s) => s.protocol === IPPROTO_TCP)
        .map((s) => s.tcpState)
        .sort(),
    ).toEqual(['ESTABLISHED', 'ESTABLISHED', 'LISTEN']);
    const udp = socks.filter((s) => s.protocol === IPPROTO_UDP);
    expect(udp.map((s) => s.family).sort((a, b) => a - b)).toEqual([AF_INET, AF_INET6]);
    expect(udp.find((s) => s.family === AF_INET)?.localPort).toBe(inside.udp4Port);
    expect(listInetSockets(outside.pid).every((s) => s.mark === 0)).toBe(true);
  });

  it('a nested cgroup below the app inherits its tag', async () => {
    const deep = path.join(appCg, 'app.slice', 'flatpak-x.scope');
    await ensureCgroup(deep);
    nested = await startHolder('nested', deep);
    const marks = await ssMarks(nested.pid);
    expect(marks.length).toBe(5);
    for (const s of marks) expect(s.mark, s.line).toBe(APP_MARK);
    // The nested cgroup has no entry of its own.
    expect(tagger!.list().some((t) => t.cgroupId === cgroupId(deep))).toBe(false);
  });

  it('the DENY flag makes IPv4 socket creation fail with EPERM and leaves Unix sockets alone', async () => {
    const denyCg = path.join(root, 'app-deny');
    await ensureCgroup(denyCg);
    tagger!.set(cgroupId(denyCg), APP_MARK, TAG_FLAG_DENY);
    const out = path.join(work, 'deny.json');
    const child = startInNetns(path.join(work, 'deny.cjs'), out, denyCg);
    await child.done;
    expect(await readJson(out)).toEqual({ error: 'EPERM', unix: true });
    expect(tagger!.delete(cgroupId(denyCg))).toBe(true);
    expect(tagger!.delete(cgroupId(denyCg))).toBe(false);
  });

  it('setSocketMark re-marks an existing socket and shutdownSocket closes it for the app', async () => {
    const client = listInetSockets(inside.pid).find(
      (s) => s.protocol === IPPROTO_TCP && s.localPort === inside.clientPort,
    );
    expect(client?.tcpState).toBe('ESTABLISHED');
    const NEW_MARK = 0x5a0042;
    setSocketMark(inside.pid, client!.fd, NEW_MARK);
    const after = (await ssMarks(inside.pid)).find((s) => s.local === `127.0.0.1:${inside.clientPort}`);
    expect(after?.mark).toBe(NEW_MARK);
    expect(listInetSockets(inside.pid).find((s) => s.fd === client!.fd)?.mark).toBe(NEW_MARK);

    shutdownSocket(inside.pid, client!.fd);
    const closed = await waitFor('the app to see its connection closed', () =>
      readFile(path.join(work, 'inside.json.closed'), 'utf8'),
    );
    expect(['end', 'close']).toContain(closed);
    // Every fd duplicated from the app is closed again: our own socket count does not grow.
    const ourSockets = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
        } catch {
          return false;
        }
      }).length;
    const socketsBefore = ourSockets();
    for (let i = 0; i < 5; i++) listInetSockets(outside.pid);
    setSocketMark(outside.pid, listInetSockets(outside.pid)[0]!.fd, 0);
    expect(ourSockets()).toBe(socketsBefore);

    expect(() => setSocketMark(inside.pid, 9999, 1)).toThrow(/setSocketMark: pidfd_getfd: EBADF/);
    expect(() => native().listSockets(2 ** 22 + 1)).toThrow(/listSockets: pidfd_open: ESRCH/);
  });

  it('the proc connector reports execs in the test netns with matching pids', async () => {
    const events = new ProcEvents();
    const seen = new Map<number, { ev: ExecEvent; receivedNs: bigint }[]>();
    events.on('exec', (ev) => {
      const list = seen.get(ev.pid) ?? [];
      list.push({ ev, receivedNs: process.hrtime.bigint() });
      seen.set(ev.pid, list);
    });
    let overflowed = false;
    events.on('overflow', () => (overflowed = true));
    events.start({ netnsPath: `/proc/${process.pid}/ns/net` });
    const latenciesUs: number[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const pidFile = path.join(work, `exec-${i}.pid`);
        await run(['ip', 'netns', 'exec', netns, 'sh', '-c', 'echo $$ > "$0"; exec /bin/true', pidFile]);
        const pid = Number(await readFile(pidFile, 'utf8'));
        // ip → sh → true all exec in the same pid; the last exec is /bin/true.
        const evs = await waitFor(
          `exec events of ${pid}`,
          async () => (seen.get(pid)?.length ?? 0) >= 3 && seen.get(pid),
        );
        const last = evs.at(-1)!;
        latenciesUs.push(Number(last.receivedNs - last.ev.timestampNs) / 1000);
      }
    } finally {
      events.stop();
    }
    const p = percentiles(latenciesUs);
    console.log(
      `exec → proc event delivered to JS (µs): ${JSON.stringify(p)}${overflowed ? ' (overflow seen)' : ''}`,
    );
    expect(p.count).toBe(20);
    expect(p.p50).toBeGreaterThan(0);
    expect(p.p99).toBeLessThan(1_000_000);
  });

  it('reports overflow when the kernel drops events', async () => {
    const events = new ProcEvents();
    let overflows = 0;
    let received = 0;
    events.on('overflow', () => overflows++);
    for (const what of ['exec', 'fork', 'exit'] as const) events.on(what, () => received++);
    // The smallest buffer the kernel allows and a burst of 500 short processes.
    events.start({ netnsPath: `/proc/${process.pid}/ns/net`, receiveBufferBytes: 1 });
    try {
      await run(['sh', '-c', 'i=0; while [ $i -lt 500 ]; do /bin/true & i=$((i+1)); done; wait']);
      await delay(200);
    } finally {
      events.stop();
    }
    console.log(`burst of 500 processes with a minimal buffer: ${received} events, ${overflows} overflows`);
    expect(overflows).toBeGreaterThan(0);
    expect(received).toBeGreaterThan(0);
  });

  it('from inside another netns, events arrive only through the initial netns socket', async () => {
    const out = path.join(work, 'netns-proc.json');
    const res = await run(
      [
        'ip',
        'netns',
        'exec',
        netns,
        process.execPath,
        '--import',
        'tsx',
        path.join(work, 'netns-proc.mts'),
        out,
        `/proc/${process.pid}/ns/net`,
      ],
      { allowFailure: true, env: { ...process.env, NODE_OPTIONS: '' } },
    );
    expect(res.stderr).toBe('');
    const r = await readJson<{
      pid: number;
      before: string;
      after: string;
      seenViaInit: boolean;
      ownNetnsError: string | null;
    }>(out);
    const testNs = await readlink(`/proc/${process.pid}/ns/net`);
    expect(r?.before).not.toBe(testNs); // the probe ran in the test netns
    expect(r?.after).toBe(r?.before); // the JS thread never left it
    expect(r?.pid).toBeGreaterThan(1);
    expect(r?.seenViaInit).toBe(true);
    // Outside the initial netns there is no kernel connector to subscribe to.
    expect(r?.ownNetnsError).toBe('ECONNREFUSED');
  });

  it('measureAdoptionLatency moves freshly exec-ed processes into a cgroup', async () => {
    const bench = path.join(root, 'bench');
    const res = await measureAdoptionLatency(30, {
      cgroupPath: bench,
      netnsPath: `/proc/${process.pid}/ns/net`,
    });
    console.log(`exec event → cgroup.procs written (µs): ${JSON.stringify(res.latencyUs)}`);
    console.log(
      `  of which delivery+match: ${JSON.stringify(res.deliveryUs)}; write: ${JSON.stringify(res.writeUs)}`,
    );
    expect(res.spawned).toBe(30);
    expect(res.adopted).toBe(30);
    expect(res.latencyUs.p50).toBeGreaterThan(0);
  });

  it('attach is idempotent after a simulated crash and keeps the map entries', async () => {
    const before = tagger!.status();
    expect(before.ourProgIds.length).toBe(1);
    // Crash after a previous attach: pins stay, no detach ran.
    const again = tagger!.attach();
    expect(again.reusedMap).toBe(true);
    expect(again.replacedProgId).toBe(before.ourProgIds[0]);
    expect(await bpftoolAttachedIds(root)).toEqual([again.progId]);
    expect(tagger!.list()).toEqual([{ cgroupId: cgroupId(appCg), mark: APP_MARK, flags: 0 }]);

    // Crash between attaching and pinning the program: found again by its map and replaced.
    await rm(path.join(pinDir, 'sock_tag'));
    const third = tagger!.attach();
    expect(third.replacedProgId).toBe(again.progId);
    expect(await bpftoolAttachedIds(root)).toEqual([third.progId]);

    // Tagging still works with the replaced program.
    const fresh = await startHolder('after-reattach', appCg);
    const marks = await ssMarks(fresh.pid);
    expect(marks.length).toBe(5);
    for (const s of marks) expect(s.mark, s.line).toBe(APP_MARK);
  });

  it('re-attaching never leaves a new socket untagged', async () => {
    const out = path.join(work, 'churn.json');
    const argv = ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', appCg];
    const churn = ['ip', 'netns', 'exec', netns, process.execPath, path.join(work, 'churn.cjs'), out];
    const child: Child = {
      pid: null,
      done: run([...argv, ...churn], { allowFailure: true, timeoutMs: 300_000 }),
    };
    children.push(child);
    child.pid = Number(await waitFor('the churn to start', () => readFile(`${out}.started`, 'utf8')));
    for (let i = 0; i < 5; i++) tagger!.attach();
    expect(existsSync(out)).toBe(false); // still creating sockets when the last re-attach finished
    await writeFile(`${out}.stop`, '');
    const done = await waitFor('the churn to finish', () => readJson<{ sockets: number }>(out), 30_000);
    const socks = listInetSockets(child.pid);
    expect(socks.length).toBe(done.sockets);
    expect(done.sockets).toBeGreaterThan(50);
    expect(socks.filter((s) => s.mark !== APP_MARK)).toEqual([]);
    expect(await bpftoolAttachedIds(root)).toHaveLength(1);
    console.log(`${done.sockets} sockets created across 5 re-attaches: all marked`);
  });

  it('detach, removeCgroupTree and unpinning leave nothing behind', async () => {
    for (const c of children) await stopChild(c.pid);
    await Promise.all(children.map((c) => c.done));
    // A process still inside is moved out, not left behind.
    const straggler = await startHolder('straggler', path.join(appCg, 'app.slice'));
    expect(await listProcesses(path.join(appCg, 'app.slice'))).toEqual([straggler.pid]);

    expect(tagger!.detach()).toEqual({ detached: 1 });
    expect(await bpftoolAttachedIds(root)).toEqual([]);
    await removeCgroupTree(root, { moveTo: home });
    expect(existsSync(root)).toBe(false);
    expect(existsSync(pinDir)).toBe(false);
    expect(await cgroupOfPid(straggler.pid)).toBe(homeRel);
    expect(() => tagger!.list()).toThrow(/no tag map pinned/);
  });
});
