import { describe, expect, it } from 'vitest';
import type { Connection } from '../api/schema.ts';
import { connectionsText, portText, whenText } from './connection-commands.ts';

const NOW = new Date('2026-11-27T01:00:00Z');
const base: Connection = {
  key: '1',
  app: 'lab-chat',
  family: 4,
  protocol: 'tcp',
  destination: '198.18.200.10',
  name: null,
  port: 80,
  source: '198.18.1.2',
  sourcePort: 40000,
  egress: 'wlan0',
  txBytes: 2048,
  rxBytes: 10_000,
  txPackets: 6,
  rxPackets: 5,
  startedAt: '2026-11-27T00:59:50Z',
  endedAt: '2026-11-27T00:59:51Z',
  state: 'gone',
  decidedBy: { kind: 'egress-choice', ruleId: null, name: 'egress choice' },
};

describe('switchyard connections output', () => {
  it('prints one row per connection: app, destination, port/proto, egress, bytes, when, rule', () => {
    const text = connectionsText(
      {
        connections: [
          base,
          {
            ...base,
            key: '2',
            name: 'server.lab',
            protocol: 'icmp',
            port: null,
            txBytes: null,
            rxBytes: null,
            state: 'open',
            startedAt: '2026-11-27T00:55:00Z',
            decidedBy: { kind: 'rule', ruleId: 'r1', name: 'ssh via work' },
          },
        ],
        tracking: true,
        problem: null,
      },
      NOW,
      null,
    );
    const [header, first, second] = text.split('\n');
    expect(header).toMatch(/APP\s+DESTINATION\s+PORT\s+EGRESS\s+BYTES ↑\/↓\s+WHEN\s+RULE/i);
    expect(first).toMatch(
      /lab-chat\s+198\.18\.200\.10\s+80\/tcp\s+wlan0\s+2\.\d+ kB \/ 10 kB\s+10 s ago\s+egress choice/,
    );
    expect(second).toMatch(
      /198\.18\.200\.10 \(server\.lab\)\s+icmp\s+wlan0\s+counting\s+5 min ago · open\s+ssh via work/,
    );
  });

  it('says when nothing was seen, and why the helper is not watching', () => {
    expect(connectionsText({ connections: [], tracking: true, problem: null }, NOW, 'conn')).toBe(
      'No connections of conn seen yet.',
    );
    const off = connectionsText(
      { connections: [], tracking: false, problem: 'conntrack is missing' },
      NOW,
      null,
    );
    expect(off).toContain('not watching connections: conntrack is missing');
  });

  it('formats ports and times', () => {
    expect(portText({ port: 53, protocol: 'udp' })).toBe('53/udp');
    expect(portText({ port: null, protocol: 'icmpv6' })).toBe('icmpv6');
    expect(whenText('2026-11-27T00:00:00Z', NOW)).toBe('1 h ago');
    expect(whenText('2026-11-25T00:00:00Z', NOW)).toBe('2026-11-25');
  });
});
