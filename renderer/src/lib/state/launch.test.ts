import { describe, expect, it } from 'vitest';
import { ApiError } from '#switchyard/api/schema.ts';
import type { SwitchyardClient } from '../transport/types.ts';
import { LAUNCH_SETTLE_MS, launchApp, launchRefusal } from './launch.ts';

/** A client that answers apps.launch and apps.get as told; nothing else is asked. */
function client(launch: () => unknown, pidsAfter: number[]): SwitchyardClient {
  return {
    call: async (method: string) => {
      if (method === 'apps.launch') return launch();
      if (method === 'apps.get') return { id: 'probe', pids: pidsAfter };
      throw new Error(`unexpected ${method}`);
    },
  } as unknown as SwitchyardClient;
}
const app = { id: 'probe', name: 'Probe' };
const waited: number[] = [];
const settle = async (ms: number) => void waited.push(ms);

describe('launchApp', () => {
  it('reports a start only when the app still runs after the settle time', async () => {
    const r = await launchApp(
      client(() => ({ pid: 41 }), [41]),
      app,
      settle,
    );
    expect(r).toEqual({ ok: true, text: 'Started Probe through Switchyard (process 41).' });
    expect(waited.at(-1)).toBe(LAUNCH_SETTLE_MS);
  });

  it('reports a process that died within seconds as a failure, not as "Started"', async () => {
    const r = await launchApp(
      client(() => ({ pid: 42 }), []),
      app,
      settle,
    );
    expect(r.ok).toBe(false);
    expect(r.text).toContain('Probe stopped right after it started: process 42 exited within 2 s');
    expect(r.text).not.toMatch(/^Started/);
  });

  it('puts a refusal in user words, without API wording', async () => {
    const r = await launchApp(
      client(() => {
        throw new ApiError('BAD_REQUEST', 'Probe has no command to launch; give one with command');
      }, []),
      app,
      settle,
    );
    expect(r.ok).toBe(false);
    expect(r.text).toContain('Probe has no command to start it');
    expect(r.text).not.toMatch(/give one with command|apps\.launch/);
    expect(launchRefusal('Probe', 'apps.launch: id: too long')).toBe('Could not start Probe: id: too long');
  });
});
