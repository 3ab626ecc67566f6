// DNS of a tunnel egress, in the lab: the gateway offers its resolver (`switchyard gateway --dns`, the
// lab resolver on its own address), the tunnel learns it in the handshake with no step of the user's,
// and an app set to the tunnel has its stub lookups answered there, arriving from its tunnel address,
// i.e. through the tunnel. A user's `switchyard dns set` still overrides it.
// With the tunnel's gateway gone and the kill switch on, the lookup gets no answer and no resolver
// sees it. Set up with nothing but the `switchyard` CLI, like tunnel-egress.test.ts.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../lab/lab.ts';
import { REPO, SWITCHYARD, type RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
import { addDesktopTunnel, type LabGateway, startLabGateway } from './lab-gateway.ts';
import { NODE, eventually } from './support.ts';

const isRoot = process.getuid?.() === 0;
const ASK = `${REPO}/test/integration/fixtures/dns-ask.ts`;

describe.skipIf(!isRoot)("a tunnel egress's DNS goes through the tunnel to its gateway's resolver", () => {
  let lab: Lab;
  let helper: RunningHelper;
  let gateway: LabGateway;
  let work: string;

  const fresh = () => `q${randomBytes(5).toString('hex')}.lab`;
  async function ask(name: string, tcp = false): Promise<{ rcode?: number; error?: string }> {
    const argv = [SWITCHYARD, 'run', '--app', 'asker', '--socket', helper.socket, '--'];
    argv.push(...NODE, ASK, '--managed', ...(tcp ? ['--tcp'] : []), '--timeout=3000', name);
    return JSON.parse((await lab.exec('desktop', argv)).trim().split('\n').pop()!) as { rcode?: number };
  }
  async function seenBy(name: string): Promise<string[]> {
    const seen: string[] = [];
    for (const id of ['gateway', ...lab.uplinks.map((u) => u.id)])
      for (const q of await lab.resolverQueries(id))
        if (q.name === name) seen.push(`${q.resolver} ${q.client} ${q.transport}`);
    return seen.sort();
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sy-dns-tunnel-'));
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    await lab.setSystemResolver('stub');
    helper = await startHelper(lab);
    await helper.cli([
      'app',
      'add',
      '--name',
      'Asker',
      '--id',
      'asker',
      '--cmdline',
      'fixtures/dns-ask\\.ts --managed',
    ]);
    const tag = JSON.parse((await helper.cli(['app', 'show', 'asker', '--json'])).stdout).tag as number;

    // The gateway, in the lab's gateway namespace.
    gateway = await startLabGateway(lab, work, { port: 51901, apps: [{ tag, allow: ['0.0.0.0/0'] }] });
    await addDesktopTunnel(helper, lab, gateway);
    for (const u of lab.uplinks) await helper.cli(['dns', 'set', u.ifname, u.v4.gateway]);
    await helper.cli(['egress', 'set', 'asker', 'sy-tun0', '--kill-switch']);
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await helper?.stop();
    await lab?.down();
    rmSync(work, { recursive: true, force: true });
  });

  it("answers the app's stub lookups at the gateway's resolver, from the tunnel address (UDP and TCP)", async () => {
    const shown = JSON.parse((await helper.cli(['dns', 'show', '--json'])).stdout) as {
      egresses: { egress: string; servers: string[]; source: string }[];
    };
    expect(shown.egresses.find((e) => e.egress === 'sy-tun0')).toMatchObject({
      servers: [lab.servers.gatewayV4],
      source: 'gateway',
    });
    expect((await helper.cli(['dns', 'show'])).stdout).toMatch(/sy-tun0 .*from the gateway/);
    for (const tcp of [false, true]) {
      const name = fresh();
      expect((await ask(name, tcp)).rcode).toBe(3);
      expect(await seenBy(name)).toEqual([`gateway 10.77.0.2 ${tcp ? 'tcp' : 'udp'}`]);
    }
  });

  it("lets the user's setting override the gateway's resolver, and falls back to it when cleared", async () => {
    const sourceOf = async () =>
      (
        JSON.parse((await helper.cli(['dns', 'show', '--json'])).stdout) as {
          egresses: { egress: string; servers: string[]; source: string }[];
        }
      ).egresses.find((e) => e.egress === 'sy-tun0');
    await helper.cli(['dns', 'set', 'sy-tun0', '10.77.0.53']);
    expect(await sourceOf()).toMatchObject({ servers: ['10.77.0.53'], source: 'settings' });
    await helper.cli(['dns', 'clear', 'sy-tun0']);
    expect(await sourceOf()).toMatchObject({ servers: [lab.servers.gatewayV4], source: 'gateway' });
  });

  it('with the gateway gone and the kill switch on, the lookup gets no answer and no resolver sees it', async () => {
    await gateway.stop();
    // The app keeps asking (into the tunnel, unanswered): that is how the tunnel learns its gateway is
    // gone (no reply for 15 s, then an unanswered initiation: PROTOCOL.md). An idle tunnel learns it
    // only when its session expires.
    await eventually(
      'the tunnel down and the app held',
      async () => {
        await ask(fresh());
        return JSON.parse((await helper.cli(['apps', '--json'])).stdout);
      },
      (l: { id: string; egress: { state: string } }[]) =>
        l.find((a) => a.id === 'asker')?.egress.state === 'killed',
      90_000,
    );
    const name = fresh();
    expect((await ask(name)).error).toBeTruthy();
    expect(await seenBy(name)).toEqual([]);
  }, 120_000);
});
