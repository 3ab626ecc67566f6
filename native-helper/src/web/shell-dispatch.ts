// Route one UI request: helper methods go to the helper, shell methods to the hosting shell
// (Electron main or the web bridge). Both shells use this, so the UI sees the same API in each.
import type { z } from 'zod';
import { ApiError, type HelperClient, describeZodError, isMethodName, parseParams } from '../api/schema.ts';
import {
  type HelperConnection,
  type ShellInfo,
  type ShellMethodName,
  type ShellMethods,
  shellMethods,
} from '../api/shell-schema.ts';

export type ShellResult<M extends ShellMethodName> = z.output<ShellMethods[M]['result']>;

export interface ShellHandlers {
  info(): Promise<ShellInfo>;
  setAutostart(enabled: boolean): Promise<ShellInfo>;
  connection(): HelperConnection;
  exportEvents(format: 'json' | 'csv'): Promise<{ path: string | null }>;
}

export interface DispatchTarget {
  helper: HelperClient;
  shell: ShellHandlers;
  /**
   * events.subscribe is answered by the shell: it already holds the helper's event stream for
   * everyone, and a topic filter must narrow only this caller's view.
   */
  subscribe(topics: string[] | undefined): void;
}

export function isShellMethodName(name: string): name is ShellMethodName {
  return Object.hasOwn(shellMethods, name);
}

/** Validate and run one call. Always rejects with ApiError. */
export async function dispatchCall(
  target: DispatchTarget,
  method: unknown,
  params: unknown,
): Promise<unknown> {
  if (typeof method !== 'string' || method.length === 0 || method.length > 100) {
    throw new ApiError('BAD_REQUEST', 'method must be a non-empty string of at most 100 characters');
  }
  try {
    if (isMethodName(method)) {
      const valid = parseParams(method, params);
      if (method === 'events.subscribe') {
        target.subscribe((valid as { topics?: string[] }).topics);
        return { ok: true };
      }
      return await target.helper.call(method, valid as never);
    }
    if (isShellMethodName(method)) return await callShell(target.shell, method, params);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('INTERNAL', `${method} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  throw new ApiError('UNKNOWN_METHOD', `unknown method '${method}'`);
}

async function callShell(shell: ShellHandlers, method: ShellMethodName, params: unknown): Promise<unknown> {
  const parsed = shellMethods[method].params.safeParse(params ?? {});
  if (!parsed.success)
    throw new ApiError('BAD_REQUEST', `${method}: ${describeZodError(parsed.error)}`, parsed.error.issues);
  const p = parsed.data as Record<string, unknown>;
  let result: unknown;
  switch (method) {
    case 'shell.info':
      result = await shell.info();
      break;
    case 'shell.setAutostart':
      result = await shell.setAutostart(p.enabled as boolean);
      break;
    case 'shell.connection':
      result = shell.connection();
      break;
    case 'shell.exportEvents':
      result = await shell.exportEvents(p.format as 'json' | 'csv');
      break;
  }
  const checked = shellMethods[method].result.safeParse(result);
  if (!checked.success)
    throw new ApiError(
      'INTERNAL',
      `${method} returned a malformed result: ${describeZodError(checked.error)}`,
    );
  return checked.data;
}
