// The one client shape the UI talks to, whatever carries the messages (Electron preload, WebSocket, fake).
import './csp.ts';
import type { z } from 'zod';
import {
  ApiError,
  describeZodError,
  events,
  methods,
  parseEvent,
  parseResult,
  type EventData,
  type EventName,
  type HelperClient,
  type MethodName,
  type ParamsIn,
  type Result,
} from '#switchyard/api/schema.ts';
import {
  HelperConnection,
  shellMethods,
  type ShellMethodName,
  type ShellMethods,
} from '#switchyard/api/shell-schema.ts';

export type AnyMethodName = MethodName | ShellMethodName;
export type AnyParamsIn<M extends AnyMethodName> = M extends MethodName
  ? ParamsIn<M>
  : M extends ShellMethodName
    ? z.input<ShellMethods[M]['params']>
    : never;
export type AnyResult<M extends AnyMethodName> = M extends MethodName
  ? Result<M>
  : M extends ShellMethodName
    ? z.output<ShellMethods[M]['result']>
    : never;

export type UiEventName = EventName | 'shell.connection';
export type UiEventData<E extends UiEventName> = E extends EventName
  ? EventData<E>
  : E extends 'shell.connection'
    ? HelperConnection
    : never;

/** Where an event sat in the helper's stream. Absent when the carrier did not say; the UI then stamps it. */
export interface EventMeta {
  seq: number;
  time: string;
}

export type Listener<E extends UiEventName> = (data: UiEventData<E>, meta: EventMeta) => void;

/**
 * HelperClient widened to what the desktop shell also serves: shell.* methods and the
 * 'shell.connection' event. Listeners get the event's {seq, time} as a second argument.
 */
export interface SwitchyardClient extends HelperClient {
  call<M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Result<M>>;
  call<M extends ShellMethodName>(
    method: M,
    params: z.input<ShellMethods[M]['params']>,
  ): Promise<z.output<ShellMethods[M]['result']>>;
  on<E extends EventName>(event: E, listener: (data: EventData<E>, meta: EventMeta) => void): () => void;
  on(event: 'shell.connection', listener: (data: HelperConnection, meta: EventMeta) => void): () => void;
  /** 'electron', 'web' or 'demo': decides how exports and retries work. */
  readonly kind: 'electron' | 'web' | 'demo';
  /** Try to reach the helper now instead of waiting for the next retry, where the carrier can. */
  retryNow?(): void;
  /** The connection state the carrier already knows, when it tracks one itself (the WebSocket does). */
  currentConnection?(): HelperConnection;
  /** Messages that arrived but did not match the schema; they are dropped and reported here. */
  onProtocolError(listener: (error: ApiError) => void): () => void;
  close(): void;
}

/** What the Electron preload puts on window.switchyard (see README.md). */
export interface PreloadBridge {
  call(method: string, params: unknown): Promise<unknown>;
  on(event: string, listener: (data: unknown, meta?: Partial<EventMeta>) => void): () => void;
}

export function isHelperMethod(name: string): name is MethodName {
  return Object.hasOwn(methods, name);
}
export function isShellMethod(name: string): name is ShellMethodName {
  return Object.hasOwn(shellMethods, name);
}
export function isUiEvent(name: string): name is UiEventName {
  return name === 'shell.connection' || Object.hasOwn(events, name);
}

/** Validate a result from any carrier; a malformed one becomes an INTERNAL ApiError. */
export function parseAnyResult<M extends AnyMethodName>(method: M, result: unknown): AnyResult<M> {
  if (isHelperMethod(method)) return parseResult(method, result) as AnyResult<M>;
  if (isShellMethod(method)) {
    const r = shellMethods[method].result.safeParse(result);
    if (!r.success)
      throw new ApiError('INTERNAL', `${method} returned a malformed result: ${describeZodError(r.error)}`);
    return r.data as AnyResult<M>;
  }
  throw new ApiError('UNKNOWN_METHOD', `${String(method)} is not a method this app knows.`);
}

export function parseAnyEvent<E extends UiEventName>(event: E, data: unknown): UiEventData<E> {
  if (event === 'shell.connection') {
    const r = HelperConnection.safeParse(data);
    if (!r.success)
      throw new ApiError('INTERNAL', `event shell.connection is malformed: ${describeZodError(r.error)}`);
    return r.data as UiEventData<E>;
  }
  return parseEvent(event as EventName, data) as UiEventData<E>;
}

/** Turn whatever a carrier rejected with into an ApiError with a code and one sentence. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    const { code, message } = e as { code: unknown; message: unknown };
    const known = [
      'BAD_REQUEST',
      'UNKNOWN_METHOD',
      'UNAUTHORIZED',
      'NOT_FOUND',
      'CONFLICT',
      'MANAGED',
      'UNAVAILABLE',
      'INTERNAL',
    ];
    return new ApiError(
      (typeof code === 'string' && known.includes(code) ? code : 'INTERNAL') as ApiError['code'],
      String(message),
    );
  }
  if (e instanceof Error) return new ApiError('INTERNAL', e.message);
  return new ApiError('INTERNAL', String(e));
}

/** A tiny typed listener registry shared by the carriers. */
export class ListenerSet {
  #map = new Map<string, Set<(data: unknown, meta: EventMeta) => void>>();
  #localSeq = 0;

  add(event: string, listener: (data: unknown, meta: EventMeta) => void): () => void {
    let set = this.#map.get(event);
    if (!set) this.#map.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  has(event: string): boolean {
    return (this.#map.get(event)?.size ?? 0) > 0;
  }

  emit(event: string, data: unknown, meta?: Partial<EventMeta>): void {
    const full: EventMeta = {
      seq: typeof meta?.seq === 'number' ? meta.seq : --this.#localSeq,
      time: typeof meta?.time === 'string' ? meta.time : new Date().toISOString(),
    };
    for (const l of [...(this.#map.get(event) ?? [])]) {
      try {
        l(data, full);
      } catch (err) {
        // One broken view must not stop the others from hearing the event.
        console.error(`listener for ${event} failed`, err);
      }
    }
  }
}
