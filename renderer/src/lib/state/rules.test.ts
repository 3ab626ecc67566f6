import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeHelper } from '../transport-testing/fake-helper.ts';
import { GroupsState } from './groups.svelte.ts';
import { NetworksState } from './networks.svelte.ts';
import { Notices } from './notices.svelte.ts';
import { RulesState, beforeFor } from './rules.svelte.ts';

let rules: RulesState | null = null;
afterEach(() => rules?.dispose());

async function setup() {
  const fake = new FakeHelper();
  const notices = new Notices(0);
  rules = new RulesState(fake, notices);
  const groups = new GroupsState(fake);
  const networks = new NetworksState(fake);
  fake.on('rules.changed', (d) => rules?.applyList(d));
  fake.on('rule.expired', (d) => rules?.applyExpired(d));
  fake.on('groups.changed', (d) => groups.apply(d));
  fake.on('networks.changed', (d) => networks.apply(d));
  await Promise.all([rules.load(), groups.load(), networks.load()]);
  return { fake, rules, groups, networks, notices };
}

const ids = (r: RulesState, layer?: string) =>
  r.rules.filter((x) => !layer || x.layer === layer).map((x) => x.id);

describe('rules state', () => {
  it('loads the layers in order, the defaults and the tunnels', async () => {
    const { rules } = await setup();
    // Firefox is flagged by clamav in the demo: its flag's rule comes first among the event rules.
    expect(rules.rules.map((r) => r.layer)).toEqual([
      'managed',
      'event',
      'event',
      'user',
      'user',
      'user',
      'user',
      'user',
    ]);
    expect(rules.rules.map((r) => r.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rules.byLayer.managed.every((r) => r.locked)).toBe(true);
    expect(rules.defaults?.untrusted).toEqual({ type: 'encrypt', tunnel: 'sy-office' });
    expect(rules.tunnels.map((t) => [t.name, t.state])).toEqual([
      ['sy-office', 'up'],
      ['sy-travel', 'down'],
    ]);
    expect(rules.holding.map((r) => r.id)).toEqual(['r-2b9c44']);
  });

  it('takes every field of rules.changed: a tunnel back up clears the problem, down again brings it', async () => {
    const { fake, rules } = await setup();
    fake.rules.setTunnelState('sy-travel', 'up');
    expect(rules.holding).toEqual([]);
    fake.rules.setTunnelState('sy-travel', 'down');
    expect(rules.holding.map((r) => r.problem)).toEqual([
      'tunnel sy-travel is down: the flows this rule covers are blocked until it is up',
    ]);
  });

  it('drops an expired rule when rule.expired arrives, and says so', async () => {
    const { rules, notices } = await setup();
    rules.applyExpired({
      id: 'r-e5c201',
      name: 'Hotel sign-in page in clear',
      expiredAt: new Date().toISOString(),
    });
    expect(ids(rules)).not.toContain('r-e5c201');
    expect(notices.items.at(-1)?.text).toBe('Rule “Hotel sign-in page in clear” expired.');
  });

  it('expires rules on the helper clock', async () => {
    let now = Date.parse('2025-05-01T10:00:00Z');
    const fake = new FakeHelper({ now: () => now });
    rules = new RulesState(fake);
    fake.on('rules.changed', (d) => rules?.applyList(d));
    await rules.load();
    expect(ids(rules)).toContain('r-e5c201');
    now += 13 * 60_000;
    fake.tick();
    expect(ids(rules)).not.toContain('r-e5c201');
  });

  it('computes where a move puts a rule (before which rule of its layer, or null for the end)', () => {
    const layer = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
    expect(beforeFor(layer, 2, 0)).toBe('a');
    expect(beforeFor(layer, 1, 0)).toBe('a');
    expect(beforeFor(layer, 0, 1)).toBe('c');
    expect(beforeFor(layer, 0, 2)).toBeNull();
    expect(beforeFor(layer, 1, 1)).toBeUndefined();
    expect(beforeFor(layer, 0, 3)).toBeUndefined();
  });

  it('moves a user rule within its layer through rules.move, and never a locked one', async () => {
    const { fake, rules } = await setup();
    const user = ids(rules, 'user');
    expect(await rules.moveWithin(user[2]!, 1)).toEqual({ ok: true });
    expect(fake.calls.findLast((c) => c.method === 'rules.move')?.params).toEqual({
      id: user[2],
      before: user[1],
    });
    expect(ids(rules, 'user')).toEqual([user[0], user[2], user[1], ...user.slice(3)]);
    expect(await rules.moveWithin(user[0]!, user.length - 1)).toEqual({ ok: true });
    expect(fake.calls.findLast((c) => c.method === 'rules.move')?.params).toEqual({
      id: user[0],
      before: null,
    });
    const calls = fake.calls.length;
    expect(await rules.moveWithin('r-0ff1ce', 0)).toBeNull();
    expect(fake.calls.length).toBe(calls);
  });

  it('shows the helper refusal in words', async () => {
    const { rules } = await setup();
    const r = await rules.move('r-7f3a10', 'r-e5c201');
    expect(r).toEqual({
      ok: false,
      error:
        'Could not move the rule: rule r-7f3a10 is a user rule and r-e5c201 a event rule; rules move only within their layer.',
    });
    expect(rules.error).toBe(r.ok ? null : r.error);
  });

  it('adds and removes rules and changes a default', async () => {
    const { rules } = await setup();
    const added = await rules.add({
      match: { subject: { kind: 'app', app: 'curl' }, ports: [{ from: 25, to: 25 }] },
      action: { type: 'block' },
    });
    expect(added).toEqual({ ok: true });
    const rule = rules.rules.at(-1)!;
    expect(rule).toMatchObject({ layer: 'user', name: 'curl: block', stats: { flows: 0, bytes: 0 } });
    await rules.remove(rule.id);
    expect(ids(rules)).not.toContain(rule.id);
    await rules.setDefault('trusted', { type: 'block' });
    expect(rules.defaults?.trusted).toEqual({ type: 'block' });
  });

  it('re-reads the list shortly after an interface change (a tunnel up or down)', async () => {
    vi.useFakeTimers();
    try {
      const { fake, rules } = await setup();
      const before = fake.calls.filter((c) => c.method === 'rules.list').length;
      rules.refreshSoon();
      rules.refreshSoon();
      await vi.advanceTimersByTimeAsync(500);
      expect(fake.calls.filter((c) => c.method === 'rules.list').length).toBe(before + 1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('lists the rules that cover an app, its own and its groups, in order', async () => {
    const { rules, groups } = await setup();
    expect(rules.forApp('firefox', groups.list).map((r) => r.name)).toEqual([
      'A flagged app is blocked, except its update servers (clamav)',
      'Hotel sign-in page in clear',
      'No QUIC for browsers',
    ]);
    expect(rules.forApp('thunderbird', groups.list).map((r) => r.id)).toEqual(['r-0ff1ce']);
    expect(rules.forApp('vlc', groups.list)).toEqual([]);
  });
});

describe('groups state', () => {
  it('follows groups.changed and shows why a group in use cannot go', async () => {
    const { groups, rules } = await setup();
    expect(await groups.add('Media', ['vlc', 'spotify'])).toEqual({ ok: true });
    expect(groups.byName('media')?.apps).toEqual(['vlc', 'spotify']);
    await groups.set('Media', ['vlc']);
    expect(groups.of('vlc').map((g) => g.name)).toEqual(['Media']);
    expect(await groups.remove('Chat')).toEqual({
      ok: false,
      error: 'Could not delete group Chat: group "Chat" is used by rule r-7f3a10; remove it first.',
    });
    await rules?.remove('r-7f3a10');
    expect(await groups.remove('Chat')).toEqual({ ok: true });
    expect(groups.list.map((g) => g.name)).toEqual(['Browsers', 'Work', 'Media']);
  });
});

describe('networks state', () => {
  it('splits the networks in use from those seen before and follows networks.changed', async () => {
    const { networks, fake } = await setup();
    expect(networks.current.map((n) => n.interfaces)).toEqual([['wlan0'], ['enp3s0']]);
    expect(networks.known.map((n) => n.name)).toEqual(['Office LAN', 'Lumière-Guests', 'Airport_Free_WiFi']);
    expect(networks.onInterface('wlan0')?.effectiveTrust).toBe('untrusted');
    fake.networks.attach('wlan0', 'n-c27e6d90a1f3');
    expect(networks.onInterface('wlan0')?.name).toBe('Lumière-Guests');
  });

  it('marks a network and the trust of unmarked ones', async () => {
    const { networks, fake } = await setup();
    expect(await networks.setTrust('n-5f0c9a2e71d4', 'trusted')).toBe(true);
    expect(networks.onInterface('wlan0')?.effectiveTrust).toBe('trusted');
    expect(fake.calls.at(-1)).toEqual({
      method: 'networks.setTrust',
      params: { id: 'n-5f0c9a2e71d4', trust: 'trusted' },
    });
    expect(await networks.setTrust('n-ffffffffffff', null)).toBe(false);
    expect(networks.errors['n-ffffffffffff']).toMatch(/no network "n-ffffffffffff"/);
    await networks.setUnknownTrust('trusted');
    expect(networks.unknownTrust).toBe('trusted');
    expect(networks.list.find((n) => n.name === 'Airport_Free_WiFi')?.effectiveTrust).toBe('trusted');
  });
});
