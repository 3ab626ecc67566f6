// The desktop shell's methods and events: served by Electron main (electron/shell-app.ts) or the web
// bridge (native-helper/src/web/), never by the helper, whose dispatcher knows only schema.ts. The UI
// sees both: its carriers accept a helper method from schema.ts or a shell method from here.
import { z } from 'zod';
import { NoParams, method } from './schema.ts';

export const ShellInfo = z.object({
  mode: z.enum(['electron', 'web']),
  version: z.string(),
  /** Whether the shell can write an XDG autostart entry for this user. */
  canAutostart: z.boolean(),
  autostart: z.boolean(),
  /** Where the shell connects to the helper. */
  helperSocket: z.string(),
});
export type ShellInfo = z.infer<typeof ShellInfo>;

export const HelperConnection = z.object({
  state: z.enum(['connecting', 'connected', 'absent', 'refused', 'incompatible']),
  /** One sentence for people: what is wrong and how to fix it. */
  message: z.string(),
  socket: z.string(),
  retryInMs: z.number().nullable(),
});
export type HelperConnection = z.infer<typeof HelperConnection>;

export const shellMethods = {
  'shell.info': method(NoParams, ShellInfo, 'read', 'The desktop shell hosting the UI.'),
  'shell.setAutostart': method(
    z.object({ enabled: z.boolean() }).strict(),
    ShellInfo,
    'write',
    'Start at login.',
  ),
  'shell.connection': method(NoParams, HelperConnection, 'read', "The shell's connection to the helper."),
  'shell.exportEvents': method(
    z.object({ format: z.enum(['json', 'csv']) }).strict(),
    z.object({ path: z.string().nullable() }),
    'write',
    'Save the event log to a file the user picks.',
  ),
} as const;
export type ShellMethods = typeof shellMethods;
export type ShellMethodName = keyof ShellMethods;
export const shellMethodNames = Object.keys(shellMethods) as ShellMethodName[];

export const shellEvents = {
  'shell.connection': HelperConnection,
} as const;
export type ShellEventName = keyof typeof shellEvents;
export const shellEventNames = Object.keys(shellEvents) as ShellEventName[];
