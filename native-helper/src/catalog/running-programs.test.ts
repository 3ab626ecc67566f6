import { describe, expect, it } from 'vitest';
import { groupPrograms, runningPrograms } from './running-programs.ts';

const proc = (pid: number, exe: string | null, cmdline: string[], uid = 1000) => ({ pid, exe, cmdline, uid });

describe('the running programs, for Add app', () => {
  it('one entry per executable with its process count, the app that claims it, kernel threads left out', () => {
    const apps = [
      { id: 'firefox', source: 'catalog', matchers: { exe: ['/usr/lib/firefox/firefox'] } },
      { id: 'backup', source: 'manual', matchers: { cmdline: 'backup\\.py' } },
    ];
    const out = groupPrograms(
      [
        proc(1, '/usr/lib/systemd/systemd', ['/sbin/init']),
        proc(2, null, []), // a kernel thread
        proc(10, '/usr/lib/firefox/firefox', ['/usr/lib/firefox/firefox']),
        proc(11, '/usr/lib/firefox/firefox', ['/usr/lib/firefox/firefox', '-contentproc']),
        proc(12, '/usr/bin/python3.11', ['python3', 'backup.py']),
        proc(13, '/usr/bin/vim (deleted)', ['vim', 'notes.txt']),
        proc(14, '/usr/bin/helperchild', ['nft', '-j']),
      ],
      apps,
      (pid) => pid === 14,
    );
    expect(out).toEqual([
      { exe: '/usr/bin/python3.11', cmdline: 'python3 backup.py', processes: 1, uid: 1000, app: 'backup' },
      { exe: '/usr/bin/vim', cmdline: 'vim notes.txt', processes: 1, uid: 1000, app: null },
      {
        exe: '/usr/lib/firefox/firefox',
        cmdline: '/usr/lib/firefox/firefox',
        processes: 2,
        uid: 1000,
        app: 'firefox',
      },
    ]);
  });

  it('reads the real /proc: this test runner is among them', async () => {
    const out = await runningPrograms([], () => false);
    const self = out.find((p) => p.exe === process.execPath);
    expect(self?.processes).toBeGreaterThanOrEqual(1);
    expect(self?.app).toBeNull();
  });
});
