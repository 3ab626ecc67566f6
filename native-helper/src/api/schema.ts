// The one definition of the helper's API: every method, event and error.
// The helper validates every message against it; the CLI, Electron main, preload, renderer and the
// web bridge import the same module, so nothing can call what is not defined here. The desktop
// shell's own methods (shell.*), which the helper never serves, are in shell-schema.ts.
import { z } from 'zod';
import { NoParams, Ok, method } from './method.ts';
import {
  AppId,
  EgressName,
  AppMatcher,
  EgressChoice,
  App,
  Interface,
  TunnelName,
  WireKey,
  Tunnel,
  TunnelAddresses,
  GatewayStats,
  Actor,
  Status,
  Explanation,
  RunningProgram,
} from './model.ts';

export const API_VERSION = 1;

export * from './model.ts';
export * from './rules-model.ts';
export * from './events-model.ts';
import { ruleEvents, ruleMethods } from './rules-schema.ts';
import { eventEvents, eventMethods } from './events-schema.ts';
import { gatewayMethods } from './gateway-schema.ts';
import { connectionEvents, connectionMethods } from './connections-schema.ts';
import { dnsMethods } from './dns-schema.ts';
import { modeMethods } from './mode-schema.ts';
export { ModeView, UnmanagedExplanation } from './mode-schema.ts';
export { RuleList, NetworkList } from './rules-schema.ts';
export { ReactionsState, TemplateView } from './events-schema.ts';
export { GatewayPeerSpec } from './gateway-schema.ts';
export { Connection, ConnectionList, DecidedBy } from './connections-schema.ts';
export { DnsSource, EgressDns } from './dns-schema.ts';

// ---------- errors ----------

export const ErrorCode = z.enum([
  'BAD_REQUEST', // the message or its params do not match the schema
  'UNKNOWN_METHOD',
  'UNAUTHORIZED', // the peer may not do this
  'NOT_FOUND',
  'CONFLICT',
  'MANAGED', // pinned by the managed policy
  'UNAVAILABLE', // a kernel feature or the helper itself is not ready
  'RATE_LIMITED', // too many reports from this caller; try again later
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ApiErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  details: z.unknown().optional(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** An error that crosses the API: one clear message and a code. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  toBody(): ApiErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

// ---------- methods ----------

export { NoParams, method } from './method.ts';

export const methods = {
  'status.get': method(NoParams, Status, 'read', 'The helper, its instance and its health.'),
  'apps.list': method(
    NoParams,
    z.array(App),
    'read',
    'Every app in the catalog with its egress and counters.',
  ),
  'apps.get': method(z.object({ id: AppId }).strict(), App, 'read', 'One app.'),
  'processes.list': method(
    NoParams,
    z.array(RunningProgram),
    'read',
    'The programs running now, one per executable, with the app that claims each (for Add app).',
  ),
  'apps.add': method(
    z
      .object({
        id: AppId.optional(),
        name: z.string().min(1).max(200),
        icon: z.string().max(4096).nullable().optional(),
        matchers: AppMatcher,
      })
      .strict(),
    App,
    'write',
    'Add an app by hand.',
  ),
  'apps.remove': method(
    z.object({ id: AppId }).strict(),
    Ok,
    'write',
    'Remove a hand-added app and its policy.',
  ),
  'apps.enroll': method(
    z.object({ id: AppId, pid: z.number().int().positive() }).strict(),
    z.object({ cgroup: z.string(), tag: z.number().int() }),
    'write',
    "Move a process (the caller's own, unless root) into the app's cgroup; used by `switchyard run`.",
  ),
  'apps.launch': method(
    z.object({ id: AppId, command: z.array(z.string()).min(1).max(256).optional() }).strict(),
    z.object({ pid: z.number().int() }),
    'write',
    "Start the app (its desktop Exec line, or command) as the caller, with the caller's environment, inside its cgroup.",
  ),
  'catalog.refresh': method(NoParams, z.object({ apps: z.number().int() }), 'write', 'Rescan desktop files.'),
  'interfaces.list': method(NoParams, z.array(Interface), 'read', 'Network interfaces the helper sees.'),
  'egress.set': method(
    z
      .object({
        app: AppId,
        choice: EgressChoice,
        /** Accept interfaces the helper cannot see now (a tether, a dock); else they are refused. */
        allowAbsent: z.boolean().optional(),
      })
      .strict(),
    App,
    'write',
    "Set an app's egress choice. Interface names match case-insensitively; absent ones are refused unless allowAbsent.",
  ),
  'policy.pause': method(
    z.object({ paused: z.boolean() }).strict(),
    Status,
    'write',
    'Pause or resume all policies (kill switches stay armed only while not paused).',
  ),
  'policy.override': method(
    z.object({ egress: EgressName.nullable() }).strict(),
    Status,
    'write',
    'Send every managed app through one egress, or null to stop.',
  ),
  explain: method(
    z
      .object({
        app: AppId,
        destination: z.string().min(1).max(300).describe('HOST:PORT or [IPv6]:PORT'),
        protocol: z.enum(['tcp', 'udp']).default('tcp'),
      })
      .strict(),
    Explanation,
    'read',
    'Which egress a flow would take and why.',
  ),
  'tunnels.list': method(
    NoParams,
    z.array(Tunnel),
    'read',
    'Tunnels to Switchyard gateways; each is an egress.',
  ),
  'tunnels.add': method(
    z
      .object({
        name: TunnelName,
        gateway: z.string().min(3).max(300).describe('HOST:PORT'),
        gatewayPublicKey: WireKey,
        /** This end's private key; generated when absent (see the result's publicKey). */
        privateKey: WireKey.optional(),
        addresses: TunnelAddresses,
        cipher: z.enum(['auto', 'chacha20poly1305', 'aes256gcm']).default('auto'),
      })
      .strict(),
    Tunnel,
    'write',
    'Add a tunnel egress and start it.',
  ),
  'tunnels.remove': method(z.object({ name: TunnelName }).strict(), Ok, 'write', 'Stop and forget a tunnel.'),
  'gateway.stats': method(NoParams, GatewayStats, 'read', 'Gateway mode: per-peer, per-app accounting.'),
  'events.subscribe': method(
    z.object({ topics: z.array(z.string()).optional() }).strict(),
    Ok,
    'read',
    'Start the event stream on this connection.',
  ),
  'events.history': method(
    z.object({ limit: z.number().int().min(1).max(5000).default(500) }).strict(),
    z.array(z.lazy(() => EventEnvelope)),
    'read',
    'Recent events, oldest first.',
  ),
  ...ruleMethods,
  ...eventMethods,
  ...gatewayMethods,
  ...connectionMethods,
  ...dnsMethods,
  ...modeMethods,
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type ParamsIn<M extends MethodName> = z.input<Methods[M]['params']>;
export type Params<M extends MethodName> = z.output<Methods[M]['params']>;
export type Result<M extends MethodName> = z.output<Methods[M]['result']>;
export const methodNames = Object.keys(methods) as MethodName[];

// ---------- events ----------

export const events = {
  /** An app was added, removed or its choice, processes or egress state changed. */
  'app.changed': z.object({ app: App.nullable(), id: AppId, removed: z.boolean() }),
  'interface.changed': z.object({ interface: Interface.nullable(), name: EgressName, removed: z.boolean() }),
  adoption: z.object({
    app: AppId,
    pid: z.number().int(),
    exe: z.string(),
    /** From the exec event to the cgroup write, in microseconds. */
    latencyUs: z.number(),
    via: z.enum(['exec', 'scan', 'run']),
  }),
  'egress.failover': z.object({ app: AppId, from: EgressName.nullable(), to: EgressName.nullable() }),
  'egress.killed': z.object({ app: AppId, egresses: z.array(EgressName) }),
  'egress.restored': z.object({ app: AppId, egress: EgressName }),
  'policy.changed': z.object({ app: AppId.nullable(), summary: z.string(), actor: Actor }),
  /** Per-app and per-interface counters, once a second. */
  counters: z.object({
    at: z.number(),
    apps: z.array(
      z.object({
        id: AppId,
        txBytes: z.number(),
        rxBytes: z.number(),
        txRate: z.number(),
        rxRate: z.number(),
      }),
    ),
    interfaces: z.array(
      z.object({
        name: EgressName,
        txBytes: z.number(),
        rxBytes: z.number(),
        txRate: z.number(),
        rxRate: z.number(),
      }),
    ),
  }),
  'helper.problem': z.object({ message: z.string(), severity: z.enum(['warning', 'error']) }),
  ...ruleEvents,
  ...eventEvents,
  ...connectionEvents,
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventData<E extends EventName> = z.output<Events[E]>;
export const eventNames = Object.keys(events) as EventName[];

export const EventEnvelope = z.object({
  event: z.enum(eventNames as [EventName, ...EventName[]]),
  seq: z.number().int(),
  time: z.string(),
  data: z.unknown(),
});
export type EventEnvelope = { event: EventName; seq: number; time: string; data: unknown };

// ---------- wire envelopes (newline-delimited JSON) ----------

export const RequestEnvelope = z
  .object({
    id: z.number().int().nonnegative(),
    method: z.string().min(1).max(100),
    params: z.unknown().optional(),
  })
  .strict();
export type RequestEnvelope = z.infer<typeof RequestEnvelope>;

export const ResponseEnvelope = z.union([
  z.object({ id: z.number().int(), result: z.unknown() }).strict(),
  z.object({ id: z.number().int().nullable(), error: ApiErrorBody }).strict(),
]);
export type ResponseEnvelope = z.infer<typeof ResponseEnvelope>;

/** A message from the helper: a response or an event. */
export const ServerMessage = z.union([ResponseEnvelope, EventEnvelope]);

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(methods, name);
}

/** Validate params for a method, throwing a BAD_REQUEST ApiError with the first problem in words. */
export function parseParams<M extends MethodName>(name: M, params: unknown): Params<M> {
  const r = methods[name].params.safeParse(params ?? {});
  if (!r.success) throw new ApiError('BAD_REQUEST', `${name}: ${describeZodError(r.error)}`, r.error.issues);
  return r.data as Params<M>;
}

export function parseResult<M extends MethodName>(name: M, result: unknown): Result<M> {
  const r = methods[name].result.safeParse(result);
  if (!r.success)
    throw new ApiError('INTERNAL', `${name} returned a malformed result: ${describeZodError(r.error)}`);
  return r.data as Result<M>;
}

export function parseEvent<E extends EventName>(name: E, data: unknown): EventData<E> {
  const r = events[name].safeParse(data);
  if (!r.success) throw new ApiError('INTERNAL', `event ${name} is malformed: ${describeZodError(r.error)}`);
  return r.data as EventData<E>;
}

export function describeZodError(e: z.ZodError): string {
  const first = e.issues[0];
  if (!first) return 'invalid';
  const path = first.path.length ? `${first.path.join('.')}: ` : '';
  return `${path}${first.message}`;
}

/** The one client interface: the CLI, Electron main, the preload bridge and the test fakes implement it. */
export interface HelperClient {
  call<M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Result<M>>;
  on<E extends EventName>(event: E, listener: (data: EventData<E>) => void): () => void;
}
