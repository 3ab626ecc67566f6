import { describe, expect, it } from 'vitest';
import { Shutdown, type ShutdownIo } from './shutdown.ts';

function fakeIo() {
  const lines: string[] = [];
  const handlers = new Map<string, () => void>();
  const exits: number[] = [];
  const io: ShutdownIo = {
    log: (l) => lines.push(l),
    onSignal: (s, h) => handlers.set(s, h),
    exit: (c) => exits.push(c),
  };
  return { io, lines, handlers, exits };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Shutdown', () => {
  it('runs every step once, newest first, and says what it stops', async () => {
    const { io, lines } = fakeIo();
    const order: string[] = [];
    const s = new Shutdown(io);
    s.add('the helper and the lab', async () => void order.push('lab'));
    s.add('the window', async () => void order.push('window'));
    expect(await s.stop('The window closed', 0)).toBe(0);
    expect(await s.stop('again', 5)).toBe(0);
    expect(order).toEqual(['window', 'lab']);
    expect(lines[0]).toBe('The window closed: stopping Switchyard (the window, the helper and the lab)…');
    expect(lines).toContain('Switchyard stopped.');
  });

  it('a second signal waits for the first stop instead of cutting it short', async () => {
    const { io, lines, handlers, exits } = fakeIo();
    const s = new Shutdown(io);
    let release!: () => void;
    s.add('the lab', () => new Promise<void>((r) => (release = r)));
    s.listen(['SIGINT', 'SIGTERM']);
    handlers.get('SIGINT')!();
    handlers.get('SIGTERM')!();
    await tick();
    expect(exits).toEqual([]);
    expect(lines).toContain('SIGTERM received: still stopping, please wait.');
    release();
    await tick();
    await tick();
    expect(exits).toEqual([130, 130]);
  });

  it('goes on past a failing step and exits non-zero', async () => {
    const { io, lines } = fakeIo();
    const s = new Shutdown(io);
    const ran: string[] = [];
    s.add('the lab', async () => void ran.push('lab'));
    s.add('the web bridge', () => Promise.reject(new Error('port busy')));
    expect(await s.stop('SIGTERM received', 0)).toBe(1);
    expect(ran).toEqual(['lab']);
    expect(lines).toContain('Could not stop the web bridge: port busy');
  });
});
