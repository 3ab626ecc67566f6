import { describe, expect, it } from 'vitest';
import { parseCounters, tableComment } from './table.ts';
import { renderReplace, renderTable, type TableSpec } from './spec.ts';

const spec: TableSpec = {
  name: 'switchyard_t',
  comment: 'sy:abc',
  counters: [{ name: 'tx_1' }, { name: 'rx_1', packets: 2, bytes: 300 }],
  sets: [
    { name: 'marks', type: 'mark', elements: ['0x1', '0x2'] },
    { name: 'empty', type: 'mark . ifname', elements: [] },
  ],
  maps: [{ name: 'txc', type: 'mark : counter', elements: [['0x1', '"tx_1"']] }],
  chains: [
    {
      name: 'output',
      hook: { type: 'filter', hook: 'output', priority: 'filter' },
      rules: ['counter name meta mark map @txc'],
    },
    { name: 'helper', rules: [] },
  ],
};

describe('nft rendering', () => {
  it('renders a table from the spec', () => {
    expect(renderTable(spec)).toBe(
      [
        'table inet switchyard_t {',
        '  comment "sy:abc"',
        '  counter tx_1 {}',
        '  counter rx_1 { packets 2 bytes 300 }',
        '  set marks { type mark; elements = { 0x1, 0x2 }; }',
        '  set empty { type mark . ifname; }',
        '  map txc { type mark : counter; elements = { 0x1 : "tx_1" }; }',
        '  chain output {',
        '    type filter hook output priority filter; policy accept;',
        '    counter name meta mark map @txc',
        '  }',
        '  chain helper {',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('wraps the table in create + delete + add so replace is atomic and idempotent', () => {
    const s = renderReplace(spec);
    expect(
      s.startsWith('table inet switchyard_t {}\ndelete table inet switchyard_t\ntable inet switchyard_t {\n'),
    ).toBe(true);
  });

  it('rejects names and text that could escape the table', () => {
    expect(() => renderTable({ ...spec, name: 'x; flush ruleset' })).toThrow(/invalid/);
    expect(() => renderTable({ ...spec, comment: 'a"b' })).toThrow(/quotes/);
    expect(() => renderTable({ ...spec, chains: [{ name: 'c', rules: ['accept\nflush ruleset'] }] })).toThrow(
      /newline/,
    );
  });

  it('reads the comment and counters nft prints', () => {
    const listed =
      'table inet switchyard_t {\n\tcomment "sy:1234"\n\tcounter tx_1 {\n\t\tpackets 0 bytes 0\n\t}\n\tchain x {\n\t\tcomment "no"\n\t}\n}\n';
    expect(tableComment(listed)).toBe('sy:1234');
    expect(tableComment('table inet t {\n\tchain x {\n\t\tcomment "no"\n\t}\n}\n')).toBeNull();
    const json =
      '{"nftables": [{"metainfo": {}}, {"counter": {"family": "inet", "name": "tx_1", "table": "t", "handle": 4, "packets": 5, "bytes": 500}}]}';
    expect(parseCounters(json).get('tx_1')).toEqual({ packets: 5, bytes: 500 });
  });
});
