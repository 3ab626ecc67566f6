// The one object the page gets as window.switchyard. Plain code over a minimal ipcRenderer so it is
// unit-tested under Node; preload.ts only hands it the real ipcRenderer.
// Only names from the schema pass; anything else is refused here, before it reaches IPC.
import { CALLABLE_NAMES, EVENT_NAMES, IPC_CALL, IPC_EVENT } from './api-names.ts';

export interface PreloadIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void;
}

/**
 * A rejection as a plain object: Electron's contextBridge copies only an Error's message, so code
 * and details would be lost on an Error. Same shape as the wire's error body, plus name.
 */
export interface BridgeError {
  name: 'ApiError';
  code: string;
  message: string;
  details?: unknown;
}

export type IpcReply =
  { ok: true; result: unknown } | { ok: false; error: { code: string; message: string; details?: unknown } };

/** The event's place in the helper's stream; shell events carry seq 0. */
export interface EventMeta {
  seq: number;
  time: string;
}

export type BridgeListener = (data: unknown, meta: EventMeta) => void;

export interface SwitchyardBridge {
  call(method: string, params?: unknown): Promise<unknown>;
  on(event: string, listener: BridgeListener): () => void;
}

const callable = new Set(CALLABLE_NAMES);
const eventNames = new Set(EVENT_NAMES);

function bridgeError(code: string, message: string, details?: unknown): BridgeError {
  return details === undefined
    ? { name: 'ApiError', code, message }
    : { name: 'ApiError', code, message, details };
}

export function createPreloadApi(ipc: PreloadIpc): SwitchyardBridge {
  const listeners = new Map<string, Set<BridgeListener>>();
  ipc.on(IPC_EVENT, (_event, envelope) => {
    const env = envelope as { event?: unknown; seq?: unknown; time?: unknown; data?: unknown } | null;
    if (!env || typeof env.event !== 'string') return;
    const meta: EventMeta = {
      seq: typeof env.seq === 'number' ? env.seq : 0,
      time: typeof env.time === 'string' ? env.time : new Date().toISOString(),
    };
    for (const l of listeners.get(env.event) ?? []) {
      try {
        l(env.data, meta);
      } catch (err) {
        console.error(`switchyard: a listener for ${env.event} threw`, err);
      }
    }
  });
  return Object.freeze({
    async call(method: string, params?: unknown): Promise<unknown> {
      if (typeof method !== 'string' || !callable.has(method)) {
        throw bridgeError('UNKNOWN_METHOD', `unknown method '${String(method).slice(0, 100)}'`);
      }
      const reply = (await ipc.invoke(IPC_CALL, method, params ?? {})) as IpcReply;
      if (reply.ok) return reply.result;
      throw bridgeError(reply.error.code, reply.error.message, reply.error.details);
    },
    on(event: string, listener: BridgeListener): () => void {
      if (typeof event !== 'string' || !eventNames.has(event))
        throw new TypeError(`unknown event '${String(event).slice(0, 100)}'`);
      if (typeof listener !== 'function') throw new TypeError('listener must be a function');
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => void set.delete(listener);
    },
  });
}
