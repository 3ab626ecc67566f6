import { describe, expect, it } from 'vitest';
import {
  LineSplitter,
  OversizeLineError,
  encodeError,
  encodeEvent,
  encodeRequest,
  encodeResult,
  parseLine,
} from './wire.ts';

function collect(max?: number) {
  const lines: string[] = [];
  const errors: OversizeLineError[] = [];
  const s = new LineSplitter({
    maxLineBytes: max,
    onLine: (l) => lines.push(l),
    onError: (e) => errors.push(e),
  });
  return { s, lines, errors };
}

describe('LineSplitter', () => {
  it('joins a line split across chunks and splits several lines in one chunk', () => {
    const { s, lines } = collect();
    s.push('{"id":1,"re');
    s.push('sult":2}\n{"id":2}\n{"id"');
    expect(lines).toEqual(['{"id":1,"result":2}', '{"id":2}']);
    s.push(':3}\n');
    expect(lines).toEqual(['{"id":1,"result":2}', '{"id":2}', '{"id":3}']);
    expect(s.buffered).toBe(0);
  });

  it('decodes a UTF-8 character split across chunks', () => {
    const { s, lines } = collect();
    const bytes = Buffer.from('"Zürich ✓"\n', 'utf8');
    const cut = bytes.indexOf(0xc3) + 1; // inside "ü"
    s.push(bytes.subarray(0, cut));
    s.push(bytes.subarray(cut));
    expect(lines).toEqual(['"Zürich ✓"']);
  });

  it('ignores empty lines and strips CR', () => {
    const { s, lines } = collect();
    s.push('\n\n{"a":1}\r\n  \n');
    expect(lines).toEqual(['{"a":1}']);
  });

  it('reports an oversize line once, drops it, and keeps working after its newline', () => {
    const { s, lines, errors } = collect(16);
    s.push('{"ok":1}\n');
    s.push('x'.repeat(10));
    s.push('y'.repeat(10)); // now over 16 bytes without a newline
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(OversizeLineError);
    expect(s.buffered).toBe(0);
    s.push('z'.repeat(1000)); // still the same oversize line: not buffered, not reported again
    expect(s.buffered).toBe(0);
    expect(errors).toHaveLength(1);
    s.push('zz\n{"ok":2}\n');
    expect(lines).toEqual(['{"ok":1}', '{"ok":2}']);
  });

  it('accepts a line of exactly the limit', () => {
    const { s, lines, errors } = collect(8);
    s.push('12345678\n');
    expect(lines).toEqual(['12345678']);
    expect(errors).toHaveLength(0);
  });
});

describe('encoders', () => {
  it('write one JSON object per line, newline-terminated', () => {
    const line = encodeRequest(7, 'apps.get', { id: 'a\nb' });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({ id: 7, method: 'apps.get', params: { id: 'a\nb' } });
    expect(JSON.parse(encodeRequest(1, 'status.get'))).toEqual({ id: 1, method: 'status.get' });
    expect(JSON.parse(encodeResult(2, { ok: true }))).toEqual({ id: 2, result: { ok: true } });
    expect(JSON.parse(encodeError(null, { code: 'BAD_REQUEST', message: 'm' }))).toEqual({
      id: null,
      error: { code: 'BAD_REQUEST', message: 'm' },
    });
    const ev = { event: 'adoption' as const, seq: 1, time: 't', data: {} };
    expect(JSON.parse(encodeEvent(ev))).toEqual(ev);
  });

  it('parseLine says why a line is not JSON', () => {
    expect(parseLine('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    const bad = parseLine('{nope');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toMatch(/^not JSON/);
  });
});
