import { describe, expect, it } from 'vitest';
import {
  addApp,
  allocateTag,
  emptyPolicy,
  ensureEgressTables,
  parsePolicy,
  removeApp,
  setChoice,
} from './model.ts';

const base = { name: 'App', icon: null, source: 'manual' as const, matchers: { exe: ['/usr/bin/app'] } };

describe('policy model', () => {
  it('allocates stable tags that are not reused while the app exists', () => {
    let doc = emptyPolicy();
    doc = addApp(doc, { ...base, id: 'a' });
    doc = addApp(doc, { ...base, id: 'b' });
    doc = addApp(doc, { ...base, id: 'c' });
    expect(doc.apps.map((a) => a.tag)).toEqual([1, 2, 3]);
    doc = removeApp(doc, 'b');
    expect(doc.apps.find((a) => a.id === 'c')?.tag).toBe(3);
    expect(allocateTag(doc)).toBe(2);
    // adding an existing id keeps its tag
    expect(addApp(doc, { ...base, id: 'c' }).apps.find((a) => a.id === 'c')?.tag).toBe(3);
  });

  it('round-trips through JSON and rejects bad documents with a clear sentence', () => {
    let doc = addApp(emptyPolicy(), { ...base, id: 'a' });
    doc = setChoice(doc, 'a', { mode: 'ordered', egresses: ['eth0', 'wlan0'], killSwitch: true });
    const back = parsePolicy(JSON.parse(JSON.stringify(doc)));
    expect(back).toEqual(doc);
    expect(() => parsePolicy({ ...doc, version: 9 })).toThrow(/newer than this helper/);
    expect(() => parsePolicy({ ...doc, apps: [...doc.apps, { ...doc.apps[0]!, id: 'b' }] })).toThrow(
      /tag 1 is used by two apps/,
    );
    expect(() => parsePolicy('x')).toThrow(/not a JSON object/);
    expect(() => setChoice(doc, 'zz', { mode: 'block' })).toThrow(/no app "zz"/);
  });

  it('gives referenced egresses table indexes that stay put', () => {
    let doc = addApp(emptyPolicy(), {
      ...base,
      id: 'a',
      choice: { mode: 'ordered', egresses: ['up2', 'up1'], killSwitch: false },
    });
    doc = ensureEgressTables(doc);
    expect(doc.egressTables).toEqual({ up2: 1, up1: 2 });
    expect(ensureEgressTables(doc)).toBe(doc);
    doc = ensureEgressTables({ ...doc, override: 'wg0', egressTables: { up1: 2 } });
    expect(doc.egressTables).toEqual({ up1: 2, up2: 1, wg0: 3 });
  });
});
