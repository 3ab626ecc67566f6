import { afterEach, describe, expect, it } from 'vitest';
import type { HelperConnection } from '#switchyard/api/shell-schema.ts';
import { ConnectionState, diagnose, screenFor } from './connection.svelte.ts';

const conn = (
  state: HelperConnection['state'],
  retryInMs: number | null = 5000,
  socket = '/run/switchyard/helper.sock',
): HelperConnection => ({
  state,
  message: `state ${state}`,
  socket,
  retryInMs,
});

describe('connection → screen', () => {
  it('shows the app only when connected', () => {
    expect(screenFor(null)).toBe('connecting');
    expect(screenFor(conn('connecting'))).toBe('connecting');
    expect(screenFor(conn('connected', null))).toBe('app');
    expect(screenFor(conn('absent'))).toBe('unavailable');
    expect(screenFor(conn('refused'))).toBe('unavailable');
    expect(screenFor(conn('incompatible'))).toBe('unavailable');
  });

  it('gives the exact fix for each problem', () => {
    const commands = (c: HelperConnection) =>
      diagnose(c).steps.flatMap((s) => (s.command ? [s.command] : []));
    expect(commands(conn('absent'))).toContain('sudo systemctl start switchyard-helper');
    expect(commands(conn('refused'))).toEqual(['sudo usermod -aG switchyard $USER']);
    expect(
      diagnose(conn('refused'))
        .steps.map((s) => s.text)
        .join(' '),
    ).toMatch(/Log out and back in/);
    expect(diagnose(conn('incompatible')).title).toMatch(/different versions/);
    // When the web bridge itself is missing, starting the helper would not help.
    expect(commands(conn('absent', 1000, 'ws://127.0.0.1:8080/api?token=…'))).toEqual(['switchyard web']);
  });
});

describe('ConnectionState countdown', () => {
  let state: ConnectionState | null = null;
  afterEach(() => state?.dispose());

  it('counts down to the next retry and stops when connected', () => {
    let now = 1_000_000;
    state = new ConnectionState(() => now);
    state.set(conn('absent', 5000));
    expect(state.screen).toBe('unavailable');
    expect(state.secondsLeft).toBe(5);
    now += 2100;
    state.now = now;
    expect(state.secondsLeft).toBe(3);
    now += 10_000;
    state.now = now;
    expect(state.secondsLeft).toBe(0);
    state.set(conn('connected', null));
    expect(state.screen).toBe('app');
    expect(state.secondsLeft).toBeNull();
  });
});
