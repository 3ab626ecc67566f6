// What left in clear: a capture on every ISP link of the lab (fixtures/marker-capture.py), each writing
// the markers it sees in packets to a file. The rules and events suites count them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../lab/lab.ts';
import { REPO } from '../lab/switchyard-helper.ts';
import { eventually } from './support.ts';

export class MarkerCaptures {
  private constructor(private readonly files: string[]) {}

  /** One capture per uplink's ISP side, running (it said so) before this returns. */
  static async start(lab: Lab, dir: string): Promise<MarkerCaptures> {
    const files: string[] = [];
    for (const u of lab.uplinks) {
      const file = join(dir, `${u.id}.markers`);
      await lab.spawn(u.ispRole, [
        'python3',
        join(REPO, 'test/integration/fixtures/marker-capture.py'),
        u.ispIfname,
        file,
      ]);
      await eventually(
        'the capture running',
        async () => (existsSync(file) ? readFileSync(file, 'utf8') : ''),
        (t) => t.startsWith('capturing'),
        10_000,
      );
      files.push(file);
    }
    return new MarkerCaptures(files);
  }

  /** How many packets on the ISP links carried a marker containing the text. */
  async count(text: string): Promise<number> {
    await new Promise((r) => setTimeout(r, 200)); // the last packets on their way
    let n = 0;
    for (const f of this.files)
      n += readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l.includes(text)).length;
    return n;
  }

  /** The send times of markers MARKER-<unix ms> seen on the ISP links. */
  sentTimes(marker: string): number[] {
    const out: number[] = [];
    for (const f of this.files)
      for (const m of readFileSync(f, 'utf8').matchAll(new RegExp(`${marker}-(\\d{13})`, 'g')))
        out.push(Number(m[1]));
    return out;
  }
}
