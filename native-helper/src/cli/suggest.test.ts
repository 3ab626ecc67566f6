import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, matchIgnoringCase, nearest } from '../api/edit-distance.ts';
import { NoSuchApp, pickApp } from './app-names.ts';
import { commands } from './commands.ts';
import { suggestCommand, unknownCommand } from './help.ts';

describe('edit distance', () => {
  it('counts inserts, deletes and substitutions, ignoring case', () => {
    expect(editDistance('lab-chat', 'lab-chat')).toBe(0);
    expect(editDistance('lab-chatt', 'lab-chat')).toBe(1);
    expect(editDistance('WLAN0', 'wlan0')).toBe(0);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only names close enough to be a typo', () => {
    expect(nearest('lab-chatt', ['lab-browser', 'lab-chat', 'lab-updater'])).toBe('lab-chat');
    expect(nearest('wlan1', ['wlan0', 'enp3s0'])).toBe('wlan0');
    expect(nearest('eth0', ['wlan0', 'enp3s0'])).toBeNull();
    expect(nearest('x', [])).toBeNull();
    expect(didYouMean('enp3s1', ['wlan0', 'enp3s0'])).toBe(' Did you mean enp3s0?');
    expect(didYouMean('firefox', ['wlan0'])).toBe('');
  });

  it('matches a name in any case, an exact match first', () => {
    expect(matchIgnoringCase('WLAN0', ['enp3s0', 'wlan0'])).toBe('wlan0');
    expect(matchIgnoringCase('Tun', ['tun', 'Tun'])).toBe('Tun');
    expect(matchIgnoringCase('eth0', ['wlan0'])).toBeUndefined();
  });
});

describe('command suggestions', () => {
  it.each([
    [['egres', 'set', 'x'], 'egress set'],
    [['tunel'], 'tunnel'],
    [['tunnel', 'ad', 'x'], 'tunnel add'],
    [['app', 'shwo', 'x'], 'app show'],
    [['statsu'], 'status'],
    [['gateway', 'peer', 'ad', 'laptop'], 'gateway peer add'],
    [['tunnel', 'shwo', 'sy-tun0'], 'tunnel show'],
  ])('%j → %s', (argv, meant) => {
    expect(suggestCommand(commands, argv)).toBe(meant);
  });

  it('says what was not found, the nearest command and where the list is', () => {
    expect(unknownCommand(commands, ['egres', 'set'])).toBe(
      "unknown command 'egres set'. Did you mean egress set? See `switchyard --help`",
    );
    expect(unknownCommand(commands, ['app', 'shwo', 'firefox'])).toBe(
      "unknown command 'app shwo'. Did you mean app show? See `switchyard app --help`",
    );
    expect(unknownCommand(commands, ['frobnicate'])).toBe(
      "unknown command 'frobnicate'. See `switchyard --help`",
    );
  });
});

describe('app names', () => {
  const apps = [
    { id: 'lab-chat', name: 'Lab Chat' },
    { id: 'lab-browser', name: 'Lab Browser' },
    { id: 'org.gnome.Terminal', name: 'Terminal' },
    { id: 'term2', name: 'Terminal 2' },
  ];

  it('takes an id or a display name in any case', () => {
    expect(pickApp(apps, 'lab-chat')).toBe('lab-chat');
    expect(pickApp(apps, 'LAB-CHAT')).toBe('lab-chat');
    expect(pickApp(apps, 'lab chat')).toBe('lab-chat');
    expect(pickApp(apps, 'Lab Browser')).toBe('lab-browser');
    expect(pickApp(apps, 'org.gnome.terminal')).toBe('org.gnome.Terminal');
  });

  it('suggests the id of the nearest app on a typo', () => {
    expect(() => pickApp(apps, 'lab-chatt')).toThrow(
      "no app 'lab-chatt'. Did you mean lab-chat? `switchyard apps` lists them.",
    );
    // Near a display name: the id to type.
    expect(() => pickApp(apps, 'Lab Browsr')).toThrow('Did you mean lab-browser?');
    expect(() => pickApp(apps, 'thunderbird')).toThrow(/^no app 'thunderbird'\. `switchyard apps`/);
    expect(() => pickApp(apps, 'x')).toThrow(NoSuchApp);
  });

  it('refuses a display name two apps share', () => {
    const twins = [...apps, { id: 'chat2', name: 'Lab Chat' }];
    expect(() => pickApp(twins, 'lab chat')).toThrow("2 apps are called 'lab chat': lab-chat, chat2");
  });
});
