import { describe, expect, it } from 'vitest';
import type { App } from '#switchyard/api/schema.ts';
import { interfaceApps } from './interface-apps.ts';

const app = (id: string, choice: App['choice'], egress: App['egress']): App =>
  ({ id, name: id.toUpperCase(), choice, egress }) as App;

describe('interfaceApps', () => {
  it('tells apps held by a down interface and apps that list it from the ones it carries', () => {
    const apps = [
      app(
        'held',
        { mode: 'ordered', egresses: ['wlan0'], killSwitch: true },
        { state: 'killed', active: null },
      ),
      app(
        'moved',
        { mode: 'ordered', egresses: ['wlan0', 'enp3s0'], killSwitch: false },
        { state: 'failed-over', active: 'enp3s0' },
      ),
      app('other', { mode: 'default' }, { state: 'default', active: null }),
    ];
    const down = interfaceApps({ name: 'wlan0', apps: [] }, apps);
    expect(down.carrying).toEqual([]);
    expect(down.holding.map((a) => a.id)).toEqual(['held']);
    expect(down.waiting.map((a) => a.id)).toEqual(['moved']);

    const up = interfaceApps({ name: 'enp3s0', apps: ['moved'] }, apps);
    expect(up.carrying.map((a) => a.id)).toEqual(['moved']);
    expect(up.holding).toEqual([]);
    expect(up.waiting).toEqual([]);
  });
});
