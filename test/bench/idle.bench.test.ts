import { describe, expect, it } from 'vitest';
import { describeMemory, descendantsOf, topSelfTime } from './idle.bench.ts';

describe('idle bench helpers', () => {
  it('finds every process below the helper, not its siblings', () => {
    const parents = new Map([
      [10, 1],
      [11, 10],
      [12, 11],
      [13, 1],
      [14, 10],
    ]);
    expect(descendantsOf(10, parents).sort()).toEqual([10, 11, 12, 14]);
  });
  it('ranks functions by self time in a CPU profile', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
    const profile = JSON.stringify({
      nodes: [
        { hitCount: 90, callFrame: frame('(idle)', '') },
        { hitCount: 6, callFrame: frame('spawn', '') },
        { hitCount: 4, callFrame: frame('parseCounters', 'file:///work/main/native-helper/src/x.ts') },
      ],
    });
    expect(topSelfTime(profile, 2).split('\n')).toEqual(['   90.0 %  (idle) :1', '    6.0 %  spawn :1']);
    expect(topSelfTime(profile)).toContain('4.0 %  parseCounters native-helper/src/x.ts:1');
  });
  it('says what the memory is made of, leaving out empty heap spaces', () => {
    const json = JSON.stringify({
      usage: { rss: 80e6, heapTotal: 20e6, heapUsed: 15e6 },
      spaces: { new_space: { size: 2e6, used: 1e6 }, shared_space: { size: 0, used: 0 } },
    });
    expect(describeMemory(json)).toBe(
      'rss 80.0, heapTotal 20.0, heapUsed 15.0; heap spaces committed/used: new_space 2.0/1.0',
    );
  });
});
