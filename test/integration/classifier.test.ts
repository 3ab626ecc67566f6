// The flow classifier (bpf/flow_rules.bpf.c) against the real kernel: per destination, port and
// protocol, a connect() keeps the app's mark, gets a flow-class mark, or fails with EPERM; an
// unconnected UDP socket's mark follows its destinations; replace() swaps every list at once; a
// restarted attach keeps the lists in force. Needs root; scoped by a unique instance and cgroup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { output } from '../../native-helper/src/mechanism/exec.ts';
import {
  cgroupId,
  ensureCgroup,
  findCgroup2Mount,
  removeCgroupTree,
} from '../../native-helper/src/mechanism/cgroup/index.ts';
import { ensureBpffs } from '../../native-helper/src/mechanism/bpf/bpffs.ts';
import { Tagger, pinDirFor } from '../../native-helper/src/mechanism/bpf/tagger.ts';
import { Classifier, type ClassifierList } from '../../native-helper/src/mechanism/bpf/classifier.ts';

const suffix = randomBytes(4).toString('hex');
const instance = `syc${suffix}`;
const APP = 0x5a070001;
const CLASS = 0x5a07f001;
let mount = '';
let root = '';
let appCg = '';
let tagger: Tagger;
let classifier: Classifier;

// Runs python in the app's cgroup: prints one line per probe, "<mark>" or "ERR <errno name>".
async function probe(script: string): Promise<string[]> {
  const py = String.raw`
import socket, errno
def mark(s): return str(s.getsockopt(socket.SOL_SOCKET, 36))
def tcp(host, port, fam=socket.AF_INET):
    s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(0.2)
    try: s.connect((host, port))
    except PermissionError: return 'ERR EPERM'
    except OSError: pass
    return mark(s)
def udp(host, port, fam=socket.AF_INET):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try: s.connect((host, port))
    except PermissionError: return 'ERR EPERM'
    except OSError: pass
    return mark(s)
${script}
`;
  const out = await output(['sh', '-c', `echo $$ > ${appCg}/cgroup.procs && exec python3 -c "$0"`, py]);
  return out.trim().split('\n');
}

function lists(entries: ClassifierList['entries']): ClassifierList[] {
  return [{ marks: [APP, CLASS], appMark: APP, entries }];
}

beforeAll(async () => {
  await ensureBpffs();
  mount = await findCgroup2Mount();
  root = `${mount}/switchyard.${instance}`;
  appCg = `${root}/app`;
  await ensureCgroup(root);
  await ensureCgroup(appCg);
  tagger = new Tagger({ cgroupPath: root, pinDir: pinDirFor(instance) });
  tagger.attach();
  tagger.set(cgroupId(appCg), APP);
  classifier = new Classifier({ cgroupPath: root, pinDir: `${pinDirFor(instance)}-flows` });
  classifier.attach();
});

afterAll(async () => {
  classifier?.detach();
  tagger?.detach();
  // The probes have exited: nothing is left to move, but the parent takes anything that is.
  if (root) await removeCgroupTree(root, { moveTo: mount });
});

describe('flow classifier', () => {
  it('without lists, sockets keep the app mark', async () => {
    expect(await probe(`print(tcp('127.0.0.1', 9))`)).toEqual([String(APP)]);
  });

  it('decides per port, destination and protocol, first match wins, on IPv4 and IPv6', async () => {
    classifier.replace(
      lists([
        { family: 0, proto: 6, prefix: null, ports: [22, 22], action: 'mark', mark: CLASS },
        { family: 0, proto: 0, prefix: null, ports: [25, 25], action: 'block' },
        { family: 4, proto: 17, prefix: '127.0.0.0/8', ports: [5000, 5010], action: 'mark', mark: CLASS },
        { family: 6, proto: 0, prefix: '::1/128', ports: [0, 65535], action: 'mark', mark: CLASS },
        { family: 0, proto: 0, prefix: null, ports: [443, 443], action: 'clear' },
        { family: 0, proto: 0, prefix: null, ports: [0, 65535], action: 'block' },
      ]),
    );
    const got = await probe(`
print(tcp('127.0.0.1', 22))
print(udp('127.0.0.1', 22))
print(tcp('127.0.0.1', 25))
print(udp('127.0.0.1', 5005))
print(tcp('127.0.0.1', 5005))
print(tcp('::1', 443, socket.AF_INET6))
print(tcp('::ffff:127.0.0.1', 22, socket.AF_INET6))
print(tcp('127.0.0.1', 443))
print(tcp('127.0.0.1', 80))
`);
    expect(got).toEqual([
      String(CLASS), // tcp 22: encrypt
      'ERR EPERM', // udp 22: not tcp, falls to the catch-all block
      'ERR EPERM', // 25: block
      String(CLASS), // udp 5005 to 127/8
      'ERR EPERM', // tcp 5005: only udp is classed
      String(CLASS), // ::1 any port
      String(CLASS), // v4-mapped: IPv4 rules decide
      String(APP), // 443: clear
      'ERR EPERM', // everything else: block
    ]);
  });

  it('an unconnected UDP socket gets the mark of its latest destination, and back', async () => {
    classifier.replace(
      lists([{ family: 0, proto: 17, prefix: null, ports: [53, 53], action: 'mark', mark: CLASS }]),
    );
    const got = await probe(`
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b'x', ('127.0.0.1', 53)); print(mark(s))
s.sendto(b'x', ('127.0.0.1', 54)); print(mark(s))
`);
    expect(got).toEqual([String(CLASS), String(APP)]);
  });

  it('replace() swaps all lists at once and reads back what it wrote; an attach again keeps them', () => {
    const want = lists([{ family: 4, proto: 6, prefix: '10.0.0.0/8', ports: [1, 1023], action: 'block' }]);
    classifier.replace(want);
    const image = classifier.read();
    expect(Object.keys(image.lists).sort()).toEqual([String(APP), String(CLASS)]);
    expect(classifier.attach().reusedMaps).toBe(true);
    expect(classifier.read()).toEqual(image);
    classifier.replace([]);
    expect(classifier.read()).toEqual({ lists: {} });
  });
});
