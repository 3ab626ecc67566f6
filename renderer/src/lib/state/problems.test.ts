import { describe, expect, it } from 'vitest';
import type { App, Interface, Status, Tunnel } from '#switchyard/api/schema.ts';
import { FakeHelper } from '../transport-testing/fake-helper.ts';
import { healthLine, summarizeProblems } from './problems.ts';

function world() {
  const fake = new FakeHelper();
  const apps: App[] = structuredClone(fake.apps).map((a) => ({
    ...a,
    held: [],
    choice: { mode: 'default' },
    egress: { state: 'default', active: null },
  }));
  const interfaces: Interface[] = structuredClone(fake.interfaces).map((i) => ({
    ...i,
    up: true,
    usable: true,
  }));
  const status = {
    paused: false,
    override: null,
    health: 'ok',
    problems: [] as string[],
    killed: [],
    held: [],
  } as unknown as Status;
  return { apps, interfaces, status, tunnels: [] as Tunnel[], holding: [] };
}

describe('summarizeProblems', () => {
  it('has nothing to say when nothing is wrong, and the health line says Protected', () => {
    const w = world();
    expect(summarizeProblems(w)).toEqual([]);
    expect(healthLine(true, w.status, [])).toEqual({ tone: 'ok', text: 'Protected' });
  });

  it('names an app held by its kill switch and the down interface it lists, each linking to its cause', () => {
    const w = world();
    const app = w.apps[0]!;
    app.choice = { mode: 'ordered', egresses: ['wlan0'], killSwitch: true };
    app.egress = { state: 'killed', active: null };
    w.interfaces.find((i) => i.name === 'wlan0')!.usable = false;
    const problems = summarizeProblems(w);
    expect(problems.map((p) => p.text)).toEqual([
      `${app.name} is blocked by its kill switch`,
      'wlan0 is down; 1 app lists it',
    ]);
    expect(problems[0]!.target).toEqual({ kind: 'app', id: app.id });
    expect(problems[1]!.target).toEqual({ kind: 'view', view: 'interfaces', item: 'wlan0' });
    expect(problems[1]!.detail).toContain(app.name);
    expect(healthLine(true, w.status, problems)).toEqual({ tone: 'bad', text: 'Holding traffic' });
    expect(healthLine(true, w.status, problems.slice(1))).toEqual({ tone: 'warn', text: 'Needs attention' });
  });

  it("says an app on default in exclude mode is held by the mode's kill switch, not its own", () => {
    const w = world();
    const app = w.apps[0]!;
    app.choice = { mode: 'default' };
    app.egress = { state: 'killed', active: null };
    w.status = { ...w.status!, mode: { kind: 'exclude', via: 'sy-office', killSwitch: true } };
    const [held] = summarizeProblems(w);
    expect(held!.text).toBe(`${app.name} is blocked by the kill switch of "Every app except these"`);
    expect(held!.detail).toContain('sy-office is not up');
  });

  it('does not count a down interface no app relies on', () => {
    const w = world();
    w.interfaces.find((i) => i.name === 'wlan0')!.usable = false;
    expect(summarizeProblems(w)).toEqual([]);
  });

  it('names an app pinned to an interface that does not exist', () => {
    const w = world();
    const app = w.apps[1]!;
    app.choice = { mode: 'ordered', egresses: ['eth9'], killSwitch: false };
    const [p] = summarizeProblems(w);
    expect(p).toMatchObject({
      text: `${app.name} is set to eth9, which does not exist`,
      target: { kind: 'app', id: app.id },
    });
  });

  it('names a tunnel without a handshake with its problem, in the CLI state words, linking to Tunnels', () => {
    const w = world();
    w.tunnels = [
      {
        name: 'wg-office',
        state: 'connecting',
        problem: 'no handshake from the gateway',
      } as Tunnel,
    ];
    const [p] = summarizeProblems(w);
    expect(p).toMatchObject({
      text: 'Tunnel wg-office is connecting',
      detail: 'no handshake from the gateway',
      target: { kind: 'view', view: 'tunnels', item: 'wg-office' },
    });
  });

  it('lists the helper problems, held apps and rules holding traffic', () => {
    const w = world();
    w.status.problems = ['nftables table missing'];
    w.apps[0]!.held = [
      {
        event: 'e1',
        kind: 'quarantined',
        source: 'quarantine',
        reason: 'by hand',
        severity: 'high',
        since: '',
        until: null,
      },
    ];
    const texts = summarizeProblems({
      ...w,
      holding: [{ id: 'r1', name: 'Office', problem: 'its tunnel is down' }] as never,
    }).map((p) => p.text);
    expect(texts).toEqual([
      'Helper: nftables table missing',
      'Rule “Office” is holding traffic',
      `${w.apps[0]!.name} quarantined`,
    ]);
  });

  it('says paused or override when nothing is wrong, and unavailable first', () => {
    const w = world();
    expect(healthLine(true, { ...w.status, paused: true }, []).text).toBe('Policies paused');
    expect(healthLine(true, { ...w.status, override: 'wlan0' }, []).text).toBe(
      'Override: all apps via wlan0',
    );
    expect(healthLine(false, w.status, []).text).toBe('Helper unavailable');
  });

  it('lists a rule the helper also reports among its problems once, as the rule', () => {
    const w = world();
    w.status.problems = ['rule "Office" (r-1): its tunnel is down', 'nftables table missing'];
    const texts = summarizeProblems({
      ...w,
      holding: [{ id: 'r-1', name: 'Office', problem: 'its tunnel is down' }] as never,
    }).map((p) => p.text);
    expect(texts).toEqual(['Helper: nftables table missing', 'Rule “Office” is holding traffic']);
  });
});
