// Launching an app through Switchyard, and saying honestly whether it started: a process that exits
// within seconds did not start (as `switchyard launch` checks), and the helper's refusals are put in
// the user's words, never the API's ("give one with command").
import type { App } from '#switchyard/api/schema.ts';
import type { SwitchyardClient } from '../transport/types.ts';
import { toApiError } from '../transport/types.ts';

/** How long a launched app has to still be running before it counts as started. */
export const LAUNCH_SETTLE_MS = 2000;

export type LaunchOutcome = { ok: true; text: string } | { ok: false; text: string };

/** A launch refusal from the helper, in words for someone clicking Launch. */
export function launchRefusal(name: string, message: string): string {
  if (/has no command to launch/.test(message))
    return `${name} has no command to start it: it was not found from a desktop entry. Start it yourself; Switchyard adopts it when it runs.`;
  return `Could not start ${name}: ${message.replace(/^apps\.launch: /, '')}`;
}

export async function launchApp(
  client: SwitchyardClient,
  app: Pick<App, 'id' | 'name'>,
  settle = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
): Promise<LaunchOutcome> {
  let pid: number;
  try {
    ({ pid } = await client.call('apps.launch', { id: app.id }));
  } catch (e) {
    return { ok: false, text: launchRefusal(app.name, toApiError(e).message) };
  }
  await settle(LAUNCH_SETTLE_MS);
  let pids: number[];
  try {
    ({ pids } = await client.call('apps.get', { id: app.id }));
  } catch {
    // The helper could not say: report what we know.
    return { ok: true, text: `Started ${app.name} through Switchyard (process ${pid}).` };
  }
  if (!pids.length)
    return {
      ok: false,
      text: `${app.name} stopped right after it started: process ${pid} exited within ${LAUNCH_SETTLE_MS / 1000} s and nothing of it runs. Start it in a terminal to see why.`,
    };
  return { ok: true, text: `Started ${app.name} through Switchyard (process ${pid}).` };
}
