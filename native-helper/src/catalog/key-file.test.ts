import { describe, expect, it } from 'vitest';
import {
  localeSuffixes,
  localesFromEnv,
  localizedRaw,
  parseKeyFile,
  parseListValue,
  unescapeValue,
} from './key-file.ts';

describe('parseKeyFile', () => {
  it('reads groups, keys with locales, ignores comments and blank lines, trims around "="', () => {
    const kf = parseKeyFile(
      [
        '# comment',
        '',
        '[Desktop Entry]',
        'Name = Files',
        'Name[de]=Dateien',
        '  # indented comment',
        '[Desktop Action new]',
        'Name=New',
      ].join('\n'),
    );
    expect([...kf.keys()]).toEqual(['Desktop Entry', 'Desktop Action new']);
    expect(kf.get('Desktop Entry')?.get('Name')).toBe('Files');
    expect(kf.get('Desktop Entry')?.get('Name[de]')).toBe('Dateien');
    expect(kf.get('Desktop Action new')?.get('Name')).toBe('New');
  });

  it('ignores keys before any group and malformed lines; the last duplicate wins', () => {
    const kf = parseKeyFile('Orphan=1\n[G]\nnot a key line\nA=1\nA=2\r\nB=x\r\n');
    expect([...kf.keys()]).toEqual(['G']);
    expect(Object.fromEntries(kf.get('G')!)).toEqual({ A: '2', B: 'x' });
  });
});

describe('value escapes', () => {
  it('undoes \\s \\n \\t \\r \\\\ and keeps unknown escapes', () => {
    expect(unescapeValue('a\\sb\\nc\\td\\re\\\\f\\;g\\q')).toBe('a b\nc\td\re\\f\\;g\\q');
  });

  it('splits lists on unescaped semicolons', () => {
    expect(parseListValue('one;two\\;three;four\\sfive;')).toEqual(['one', 'two;three', 'four five']);
    expect(parseListValue('')).toEqual([]);
  });
});

describe('locales', () => {
  it('orders candidate suffixes as the spec does', () => {
    expect(localeSuffixes('sr_YU.UTF-8@Latn')).toEqual(['sr_YU@Latn', 'sr_YU', 'sr@Latn', 'sr']);
    expect(localeSuffixes('de_DE.UTF-8')).toEqual(['de_DE', 'de']);
    expect(localeSuffixes('C.UTF-8')).toEqual([]);
  });

  it('picks the best localized value, falling back to the plain key', () => {
    const group = new Map([
      ['Name', 'Browser'],
      ['Name[de]', 'Browser (de)'],
      ['Name[pt_BR]', 'Navegador'],
    ]);
    expect(localizedRaw(group, 'Name', ['de_AT.UTF-8'])).toBe('Browser (de)');
    expect(localizedRaw(group, 'Name', ['pt_BR.UTF-8'])).toBe('Navegador');
    expect(localizedRaw(group, 'Name', ['pt_PT.UTF-8'])).toBe('Browser');
    expect(localizedRaw(group, 'Name', ['fr_FR', 'pt_BR'])).toBe('Navegador');
  });

  it('reads LANGUAGE before LC_ALL/LC_MESSAGES/LANG, but not for the C locale', () => {
    expect(localesFromEnv({ LANGUAGE: 'fr:de', LANG: 'en_US.UTF-8' })).toEqual(['fr', 'de', 'en_US.UTF-8']);
    expect(localesFromEnv({ LANGUAGE: 'fr', LC_ALL: 'C' })).toEqual(['C']);
    expect(localesFromEnv({ LC_MESSAGES: 'de_DE.UTF-8', LANG: 'en_US.UTF-8' })).toEqual(['de_DE.UTF-8']);
  });
});
