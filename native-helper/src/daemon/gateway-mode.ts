// `switchyard gateway`: the far end of the tunnels, the same program in gateway mode. It serves the
// same API on its own socket; methods that only make sense on a desktop answer UNAVAILABLE.
import { API_VERSION, ApiError, type Status, methodNames } from '../api/schema.ts';
import { loadGatewayConfig } from '../gateway/config.ts';
import { runGateway } from '../gateway/gateway.ts';
import { VERSION } from '../version.ts';
import { lookupGroup } from './auth.ts';
import type { Handlers } from './dispatch.ts';
import { EventBus } from './event-bus.ts';
import { ApiServer } from './server.ts';
import { peerOfSocket } from './handlers.ts';

export interface GatewayModeOptions {
  configPath: string;
  socketPath: string;
  socketGroup: string;
  socketMode: number;
}

export async function runGatewayMode(opts: GatewayModeOptions): Promise<number> {
  const log = (m: string) => console.error(`${new Date().toISOString()} switchyard-gateway: ${m}`);
  const config = await loadGatewayConfig(opts.configPath);
  const gateway = await runGateway(config);
  const startedAt = new Date().toISOString();
  const status = (): Status => ({
    version: VERSION,
    apiVersion: API_VERSION,
    instance: config.instance,
    pid: process.pid,
    startedAt,
    paused: false,
    override: null,
    cgroupRoot: '',
    policyPath: opts.configPath,
    managedPolicyPath: null,
    apps: { total: 0, managed: 0, running: 0 },
    killed: [],
    held: [],
    health: 'ok',
    problems: [],
  });
  const unavailable = () => {
    throw new ApiError(
      'UNAVAILABLE',
      'this is a gateway; app and egress methods are answered by a desktop helper',
    );
  };
  const bus = new EventBus();
  const handlers: Handlers = {
    ...(Object.fromEntries(methodNames.map((m) => [m, unavailable])) as unknown as Handlers),
    'status.get': status,
    'gateway.stats': async () => {
      const s = await gateway.stats();
      return { counters: s.counters, accounting: s.accounting };
    },
    'events.subscribe': () => ({ ok: true as const }),
    'events.history': () => [],
  };
  const server = new ApiServer({
    socketPath: opts.socketPath,
    group: lookupGroup(opts.socketGroup),
    mode: opts.socketMode,
    handlers,
    bus,
    peerOf: peerOfSocket,
    log,
  });
  await server.listen();
  log(`gateway ${config.instance} listening on UDP ${gateway.port}, API on ${opts.socketPath}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await gateway.stop();
  log('stopped and cleaned up');
  return 0;
}
