// The Electron carrier: window.switchyard from the preload. Every result and event is checked against
// the schema here, because the renderer trusts nothing that crosses a process boundary.
import { ApiError, parseParams } from '#switchyard/api/schema.ts';
import {
  ListenerSet,
  isHelperMethod,
  isUiEvent,
  parseAnyEvent,
  parseAnyResult,
  toApiError,
  type AnyMethodName,
  type AnyParamsIn,
  type AnyResult,
  type EventMeta,
  type Listener,
  type PreloadBridge,
  type SwitchyardClient,
  type UiEventName,
} from './types.ts';

export class ElectronClient implements SwitchyardClient {
  readonly kind = 'electron' as const;
  #bridge: PreloadBridge;
  #listeners = new ListenerSet();
  #errors = new Set<(e: ApiError) => void>();
  #unsubscribers = new Map<string, () => void>();

  constructor(bridge: PreloadBridge) {
    this.#bridge = bridge;
  }

  async call<M extends AnyMethodName>(method: M, params: AnyParamsIn<M>): Promise<AnyResult<M>> {
    const sent = isHelperMethod(method) ? parseParams(method, params) : (params ?? {});
    let raw: unknown;
    try {
      raw = await this.#bridge.call(method, sent);
    } catch (e) {
      throw toApiError(e);
    }
    return parseAnyResult(method, raw);
  }

  on<E extends UiEventName>(event: E, listener: Listener<E>): () => void {
    if (!isUiEvent(event))
      throw new ApiError('BAD_REQUEST', `${String(event)} is not an event this app knows.`);
    const off = this.#listeners.add(event, listener as (d: unknown, m: EventMeta) => void);
    // One preload subscription per event name, shared by every listener in the renderer.
    if (!this.#unsubscribers.has(event)) {
      this.#unsubscribers.set(
        event,
        this.#bridge.on(event, (data, meta) => {
          let parsed: unknown;
          try {
            parsed = parseAnyEvent(event, data);
          } catch (e) {
            this.#reportError(toApiError(e));
            return;
          }
          this.#listeners.emit(event, parsed, meta);
        }),
      );
    }
    return () => {
      off();
      if (!this.#listeners.has(event)) {
        this.#unsubscribers.get(event)?.();
        this.#unsubscribers.delete(event);
      }
    };
  }

  onProtocolError(listener: (error: ApiError) => void): () => void {
    this.#errors.add(listener);
    return () => this.#errors.delete(listener);
  }

  #reportError(e: ApiError) {
    console.error(e.message);
    for (const l of this.#errors) l(e);
  }

  close(): void {
    for (const off of this.#unsubscribers.values()) off();
    this.#unsubscribers.clear();
  }
}
