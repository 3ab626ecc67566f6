// Main's side of the preload bridge: validate, route, and answer with a reply object (Electron
// would flatten a thrown error to its message). Events go to the window as envelopes.
import { ApiError, type EventEnvelope } from '#switchyard/api/schema.ts';
import type { HelperConnection } from '#switchyard/api/shell-schema.ts';
import { type DispatchTarget, dispatchCall } from '../native-helper/src/web/shell-dispatch.ts';
import type { IpcReply } from './preload-api.ts';
import { isAppUrl } from './security.ts';

export interface CallHandlerOptions {
  target: DispatchTarget;
  /** The renderer's index.html: calls from any other frame are refused. */
  indexFile: string;
}

export type CallHandler = (senderUrl: string, method: unknown, params: unknown) => Promise<IpcReply>;

export function createCallHandler({ target, indexFile }: CallHandlerOptions): CallHandler {
  return async (senderUrl, method, params) => {
    if (!isAppUrl(senderUrl, indexFile)) {
      return {
        ok: false,
        error: { code: 'UNAUTHORIZED', message: 'only the Switchyard window may call the API' },
      };
    }
    try {
      return { ok: true, result: await dispatchCall(target, method, params) };
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError('INTERNAL', String(err));
      return { ok: false, error: e.toBody() };
    }
  };
}

export interface EventSource {
  onEvent(listener: (env: EventEnvelope) => void): () => void;
  onConnection(listener: (c: HelperConnection) => void): () => void;
}

/** Send every helper event and every connection change to the window; returns a stop function. */
export function forwardEvents(
  source: EventSource,
  send: (envelope: { event: string; seq: number; time: string; data: unknown }) => void,
) {
  const offEvent = source.onEvent((env) => send(env));
  const offConnection = source.onConnection((c) =>
    send({ event: 'shell.connection', seq: 0, time: new Date().toISOString(), data: c }),
  );
  return () => {
    offEvent();
    offConnection();
  };
}
