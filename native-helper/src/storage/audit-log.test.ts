import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from './audit-log.ts';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'sy-audit-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const entry = (app: string, message: string) => ({
  action: 'event.started' as const,
  app,
  by: 'test',
  message,
});

describe('audit log', () => {
  it('appends whole lines, numbers them, and reads them back filtered', () => {
    const dir = fresh();
    const log = new AuditLog(dir);
    log.append(entry('firefox', 'one'));
    log.append(entry('curl', 'two'));
    const third = log.append(entry('firefox', 'three'));
    expect(third.seq).toBe(3);
    expect(log.read().map((e) => e.message)).toEqual(['one', 'two', 'three']);
    expect(log.read({ app: 'firefox' }).map((e) => e.message)).toEqual(['one', 'three']);
    expect(log.read({ limit: 1 }).map((e) => e.message)).toEqual(['three']);
    expect(log.read({ since: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    log.close();
    expect(readFileSync(join(dir, 'audit.log'), 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('cuts a torn last line on open and keeps counting', () => {
    const dir = fresh();
    const log = new AuditLog(dir);
    log.append(entry('a', 'whole'));
    log.close();
    appendFileSync(join(dir, 'audit.log'), '{"seq":2,"time":"2026-');
    const again = new AuditLog(dir);
    expect(again.read().map((e) => e.message)).toEqual(['whole']);
    expect(again.append(entry('a', 'next')).seq).toBe(2);
    expect(readFileSync(join(dir, 'audit.log'), 'utf8')).not.toContain('"time":"2026-\n');
    again.close();
  });

  it('rotates by size, keeps N files, and numbers across rotations', () => {
    const dir = fresh();
    const log = new AuditLog(dir, { maxBytes: 600, keep: 2 });
    for (let i = 1; i <= 30; i++) log.append(entry('a', `entry ${i} ${'x'.repeat(40)}`));
    const all = log.read();
    // Older entries went with the dropped file; what is left is contiguous and ends at 30.
    expect(all.at(-1)!.seq).toBe(30);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => all[0]!.seq + i));
    expect(all.length).toBeLessThan(30);
    log.close();
    const reopened = new AuditLog(dir, { maxBytes: 600, keep: 2 });
    expect(reopened.append(entry('a', 'after')).seq).toBe(31);
    reopened.close();
  });

  it('a failing mirror (the journal) never stops the file', () => {
    const dir = fresh();
    const log = new AuditLog(dir, {
      mirror: () => {
        throw new Error('journal gone');
      },
    });
    expect(log.append(entry('a', 'kept')).seq).toBe(1);
    expect(log.read()).toHaveLength(1);
    log.close();
  });
});
