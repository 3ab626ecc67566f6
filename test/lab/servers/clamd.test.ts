// The lab's clamd: a real ClamAV daemon with the one-signature database finds EICAR, passes a clean file,
// runs its VirusEvent with the file and the signature before it answers, and stop() ends it (root only).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../processes.ts';
import { type Clamd, EICAR, EICAR_FOUND, startClamd } from './clamd.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('lab clamd (root)', () => {
  let work: string;
  let events: string;
  let clamd: Clamd;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sy-clamd-'));
    events = join(work, 'events');
    clamd = await startClamd({
      dir: join(work, 'clamd'),
      virusEvent: `echo "$CLAM_VIRUSEVENT_FILENAME|$CLAM_VIRUSEVENT_VIRUSNAME" >> '${events}'`,
    });
  }, 60_000);

  afterAll(async () => {
    await clamd?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const eventLines = () =>
    existsSync(events) ? readFileSync(events, 'utf8').split('\n').filter(Boolean) : [];

  it('finds EICAR, and its VirusEvent has run with the file and the signature when the answer comes', async () => {
    expect(eventLines()).toEqual([]);
    const target = join(mkdtempSync(join(work, 'files-')), 'eicar: test.com'); // ": " as in clamd's reply
    writeFileSync(target, EICAR);

    const verdict = await clamd.scan(target);
    expect(verdict).toEqual({ found: EICAR_FOUND, raw: `${target}: ${EICAR_FOUND} FOUND` });
    expect(eventLines()).toEqual([`${target}|${EICAR_FOUND}`]);
    expect(clamd.log()).toContain(`${target}: ${EICAR_FOUND} FOUND`);
  });

  it('passes a clean file and runs no VirusEvent for it', async () => {
    const before = eventLines();
    const clean = join(work, 'clean.txt');
    writeFileSync(clean, 'nothing to see here\n');
    expect(await clamd.scan(clean)).toEqual({ found: null, raw: `${clean}: OK` });
    expect(eventLines()).toEqual(before);
  });

  it('rejects a scan clamd cannot do rather than calling the file clean', async () => {
    await expect(clamd.scan(join(work, 'missing'))).rejects.toThrow(/clamd could not scan .*missing.*ERROR/);
  });

  it('stop() ends the clamd process and removes its socket', async () => {
    expect(isAlive(clamd.pid)).toBe(true);
    expect(existsSync(clamd.socket)).toBe(true);
    await clamd.stop();
    expect(isAlive(clamd.pid)).toBe(false);
    expect(existsSync(clamd.socket)).toBe(false);
    await clamd.stop(); // a second stop is harmless
  });
});
