// The names in the connection history (issue 17, docs/dns.md), with the real helper and real packets:
// the desktop's resolv.conf names the resolved-like stub at 127.0.0.53, an app looks a name up through
// it and then connects to the address it got. The helper saw the reply (the nft table copies DNS
// replies to the app into the instance's NFLOG group, which it reads with tcpdump), so that
// connection carries the name; a connection to an address the app never looked up carries none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, ConnectionList } from '../../native-helper/src/api/schema.ts';
import { Lab } from '../lab/lab.ts';
import { REPO, SWITCHYARD, type RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
import { NODE, eventually } from './support.ts';

const isRoot = process.getuid?.() === 0;
const ASK = `${REPO}/test/integration/fixtures/dns-ask.ts`;
const SERVER = `${REPO}/test/integration/fixtures/conn-server.ts`;
const CLIENT = `${REPO}/test/integration/fixtures/conn-client.ts`;
const PORT = 18182;

interface Answer {
  rcode?: number;
  answers?: { type: number; address?: string }[];
  error?: string;
}

describe.skipIf(!isRoot)('looked-up names in the connection history (real helper, real DNS)', () => {
  let lab: Lab;
  let helper: RunningHelper;

  /** Runs argv as the app "names" (its processes carry the app's mark). */
  const asApp = (argv: string[]) =>
    lab.exec('desktop', [SWITCHYARD, 'run', '--app', 'names', '--socket', helper.socket, '--', ...argv], {
      timeoutMs: 120_000,
    });

  /** One lookup through the stub at 127.0.0.53, as the app. */
  async function lookUp(name: string, type: 'A' | 'AAAA', tcp = false): Promise<string[]> {
    const out = await asApp(
      [...NODE, ASK, '--managed', `--type=${type}`, '--timeout=5000']
        .concat(tcp ? ['--tcp'] : [])
        .concat([name]),
    );
    const r = JSON.parse(out.trim().split('\n').pop()!) as Answer;
    expect(r.error, `the lookup of ${name} ${type} failed`).toBeUndefined();
    return (r.answers ?? []).flatMap((a) => (a.address ? [a.address] : []));
  }

  /** Connections to each address, as the app; the local ports it used. */
  async function connect(...to: string[]): Promise<number[]> {
    const out = await asApp(
      [...NODE, CLIENT, '--managed', '--port', String(PORT)].concat(to.flatMap((t) => ['--to', t])),
    );
    const r = JSON.parse(out.trim().split('\n').pop()!) as { ports: { localPort: number }[]; failed: number };
    expect(r.failed).toBe(0);
    return r.ports.map((p) => p.localPort);
  }

  const history = async (): Promise<Connection[]> =>
    (JSON.parse((await helper.cli(['connections', '--app', 'names', '--json'])).stdout) as ConnectionList)
      .connections;

  /** The history's entries for these local ports, once it has them all. */
  const entries = (ports: number[]) =>
    eventually(
      'the history to list the connections',
      async () => (await history()).filter((c) => c.sourcePort !== null && ports.includes(c.sourcePort)),
      (cs) => cs.length === ports.length,
    );

  beforeAll(async () => {
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    await lab.setSystemResolver('stub'); // before anything in the desktop starts: it reads resolv.conf then
    helper = await startHelper(lab);
    await helper.cli(
      ['app', 'add', '--name', 'Names', '--id', 'names'].concat([
        '--cmdline',
        'fixtures/(dns-ask|conn-client)\\.ts --managed',
      ]),
    );
    await lab.spawn(
      'internet',
      [...NODE, SERVER, '--host', lab.servers.v4, '--host', lab.servers.v6].concat([
        '--port',
        String(PORT),
        '--quiet',
      ]),
    );
  }, 180_000);

  afterAll(async () => {
    await helper?.stop();
    await lab?.down();
  });

  it('the helper reads its NFLOG group (no problem about names)', async () => {
    const status = JSON.parse((await helper.cli(['status', '--json'])).stdout) as { problems: string[] };
    expect(status.problems.filter((p) => p.includes('looked-up names'))).toEqual([]);
  });

  it("names the connection to the address an app looked up (its egress's resolver, over UDP); another address has no name", async () => {
    // The lookup is redirected to wlan0's ISP resolver: its reply comes in by wlan0.
    for (const u of lab.uplinks) await helper.cli(['dns', 'set', u.ifname, u.v4.gateway, u.v6.gateway]);
    await helper.cli(['egress', 'set', 'names', 'wlan0']);
    const addresses = await lookUp('server.lab', 'A');
    expect(addresses).toEqual([lab.servers.v4]);
    // The IPv6 address was never looked up (no AAAA question yet).
    const ports = await connect(lab.servers.v4, lab.servers.v6);
    const conns = await entries(ports);
    const to = (address: string) => conns.find((c) => c.destination === address);
    expect(to(lab.servers.v4)).toMatchObject({
      app: 'names',
      name: 'server.lab',
      egress: 'wlan0',
      port: PORT,
    });
    expect(to(lab.servers.v6)).toMatchObject({ app: 'names', name: null, egress: 'wlan0' });

    // The CLI's table says it as "address (name)".
    const text = (await helper.cli(['connections', '--app', 'names'])).stdout;
    expect(text).toContain(`${lab.servers.v4} (server.lab)`);
    expect(text).not.toContain(`${lab.servers.v6} (`);
  });

  it('names it when the stub itself answered, over TCP, and never names an earlier connection', async () => {
    // Without servers for wlan0 the app's lookup stays with the stub, which answers it on loopback.
    await helper.cli(['dns', 'clear', 'wlan0']);
    const earlier = (await history()).find((c) => c.destination === lab.servers.v6);
    expect(earlier?.name).toBeNull();
    expect(await lookUp('server.lab', 'AAAA', true)).toEqual([lab.servers.v6]);
    const [port] = await connect(lab.servers.v6);
    const [now] = await entries([port!]);
    expect(now).toMatchObject({ destination: lab.servers.v6, name: 'server.lab' });
    // The connection from before the lookup stays unnamed.
    const again = (await history()).find((c) => c.key === earlier!.key);
    expect(again?.name).toBeNull();
  });
});
