// `switchyard gateway`: the far end of the tunnels, the same program in gateway mode. It serves the
// same API on its own socket; methods that only make sense on a desktop answer UNAVAILABLE.
import { mkdirSync } from 'node:fs';
import type { AuditAction } from '../api/events-model.ts';
import { API_VERSION, ApiError, type Status, methodNames } from '../api/schema.ts';
import { loadGatewayConfig } from '../gateway/config.ts';
import { runGateway } from '../gateway/gateway.ts';
import { VERSION } from '../version.ts';
import { writeFileAtomicSync } from '../storage/atomic-file.ts';
import { AuditLog } from '../storage/audit-log.ts';
import { lookupGroup } from './auth.ts';
import type { Handlers } from './dispatch.ts';
import { EventBus } from './event-bus.ts';
import { ApiServer } from './server.ts';
import { peerOfSocket } from './handlers.ts';

export interface GatewayModeOptions {
  configPath: string;
  socketPath: string;
  /** Where the audit trail is kept; /var/lib/switchyard/gateway-INSTANCE when not given. */
  stateDir?: string | undefined;
  socketGroup: string;
  socketMode: number;
  /** `--dns`: the resolvers offered to peers, instead of the config's `dns` (not saved to it). */
  dns?: string[] | undefined;
}

export async function runGatewayMode(opts: GatewayModeOptions): Promise<number> {
  const log = (m: string) => console.error(`${new Date().toISOString()} switchyard-gateway: ${m}`);
  const config = await loadGatewayConfig(opts.configPath);
  const gateway = await runGateway(opts.dns ? { ...config, dns: opts.dns } : config);
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
  const stateDir = opts.stateDir ?? `/var/lib/switchyard/gateway-${config.instance}`;
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const auditLog = new AuditLog(stateDir);
  /** Run-time changes to peers and groups are audited, as a desktop audits its events. */
  const audit = (action: AuditAction, by: string, message: string) =>
    bus.emit('audit.appended', auditLog.append({ action, kind: 'gateway', by, message }));
  // Run-time changes are kept in the config file (atomically, mode 0600: it holds the private key).
  const save = () =>
    writeFileAtomicSync(
      opts.configPath,
      `${JSON.stringify({ ...config, peers: gateway.peers() }, null, 2)}\n`,
    );
  const refuseBad = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      throw new ApiError('BAD_REQUEST', (err as Error).message);
    }
  };
  const handlers: Handlers = {
    ...(Object.fromEntries(methodNames.map((m) => [m, unavailable])) as unknown as Handlers),
    'status.get': status,
    'gateway.stats': async () => {
      const s = await gateway.stats();
      return { counters: s.counters, accounting: s.accounting };
    },
    'gateway.peers.list': () => gateway.peers(),
    'gateway.peers.set': async (peer, ctx) => {
      await refuseBad(() => gateway.setPeer(peer));
      save();
      bus.emit('policy.changed', { app: null, summary: `peer ${peer.name} set`, actor: ctx.actor });
      log(`peer ${peer.name} set by ${ctx.actor.user}`);
      const groups = peer.groups?.map((g) => g.name) ?? [];
      audit(
        'peer.set',
        ctx.actor.user,
        `peer ${peer.name} set${groups.length ? ` with key groups ${groups.join(', ')}` : ''}; its old sessions ended`,
      );
      return { ok: true as const };
    },
    'gateway.peers.remove': async ({ name }, ctx) => {
      if (!gateway.peers().some((p) => p.name === name))
        throw new ApiError('NOT_FOUND', `no peer named ${name}; \`switchyard gateway peers\` lists them`);
      const sessionsEnded = await gateway.removePeer(name);
      save();
      const summary = `peer ${name} removed: ${sessionsEnded} session${sessionsEnded === 1 ? '' : 's'} ended at once`;
      bus.emit('policy.changed', { app: null, summary, actor: ctx.actor });
      log(`${summary} (by ${ctx.actor.user})`);
      audit('peer.removed', ctx.actor.user, summary);
      return { sessionsEnded };
    },
    'gateway.groups.revoke': async ({ peer, group }, ctx) => {
      let sessionsEnded = 0;
      await refuseBad(async () => {
        sessionsEnded = await gateway.revokeGroup(peer, group);
      });
      save();
      const summary = `key group ${group} of peer ${peer} revoked: ${sessionsEnded} session${sessionsEnded === 1 ? '' : 's'} ended at once; its other groups go on`;
      bus.emit('policy.changed', { app: null, summary, actor: ctx.actor });
      log(`${summary} (by ${ctx.actor.user})`);
      audit('keygroup.revoked', ctx.actor.user, summary);
      return { sessionsEnded };
    },
    'events.subscribe': ({ topics }, ctx) => {
      ctx.subscribe(topics);
      return { ok: true as const };
    },
    'events.history': ({ limit }) => bus.recent(limit),
    'audit.list': (q) => auditLog.read(q),
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
  const dns = gateway.config.dns;
  if (dns.length) log(`offering resolver${dns.length > 1 ? 's' : ''} ${dns.join(', ')} to its peers`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await gateway.stop();
  auditLog.close();
  log('stopped and cleaned up');
  return 0;
}
