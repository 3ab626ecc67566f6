// Turn one request line into one response: parse, validate against the schema, authorize, call the
// handler, validate its result. Nothing a client sends can throw past this function.
import {
  type Actor,
  ApiError,
  type MethodName,
  type Params,
  type ResponseEnvelope,
  type Result,
  RequestEnvelope,
  describeZodError,
  isMethodName,
  methods,
  parseParams,
  parseResult,
} from '../api/schema.ts';
import type { Peer } from './auth.ts';

export interface CallContext {
  peer: Peer;
  actor: Actor;
  /** Starts the event stream on the caller's connection. */
  subscribe(topics: string[] | undefined): void;
}

export type Handler<M extends MethodName> = (
  params: Params<M>,
  ctx: CallContext,
) => Promise<Result<M>> | Result<M>;
export type Handlers = { [M in MethodName]: Handler<M> };

export async function dispatch(
  handlers: Handlers,
  line: string,
  ctx: CallContext,
  onInternalError: (err: unknown, method: string) => void = () => {},
): Promise<ResponseEnvelope> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { id: null, error: { code: 'BAD_REQUEST', message: 'request is not valid JSON' } };
  }
  const env = RequestEnvelope.safeParse(raw);
  const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : null;
  if (!env.success) {
    return {
      id,
      error: { code: 'BAD_REQUEST', message: `malformed request: ${describeZodError(env.error)}` },
    };
  }
  const { method } = env.data;
  if (!isMethodName(method)) {
    return {
      id: env.data.id,
      error: { code: 'UNKNOWN_METHOD', message: `unknown method '${method.slice(0, 100)}'` },
    };
  }
  try {
    const params = parseParams(method, env.data.params);
    const handler = handlers[method] as Handler<typeof method>;
    const result = await handler(params as never, ctx);
    return { id: env.data.id, result: parseResult(method, result) };
  } catch (err) {
    if (err instanceof ApiError) return { id: env.data.id, error: err.toBody() };
    onInternalError(err, method);
    const message = err instanceof Error ? err.message : String(err);
    return { id: env.data.id, error: { code: 'INTERNAL', message: `${method} failed: ${message}` } };
  }
}

export function accessOf(method: MethodName): 'read' | 'write' {
  return methods[method].access;
}
