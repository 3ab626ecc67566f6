// The API handlers: one per schema method, each a thin call into the Helper, plus the socket server.
import type { Socket } from 'node:net';
import { describeEgressSet } from '../api/describe.ts';
import { ApiError } from '../api/schema.ts';
import { LookupError } from '../mechanism/host-resolver.ts';
import { native } from '../mechanism/native.ts';
import { filesOf, viaFiles } from '../mechanism/proc-resolver.ts';
import { kernelRouteGet } from '../mechanism/netlink/route-get.ts';
import { checkEgressNames, spellEgresses } from '../policy/egress-names.ts';
import { explain, resolveDestination } from '../policy/evaluate.ts';
import type { Peer } from './auth.ts';
import type { Handlers } from './dispatch.ts';
import type { Helper } from './helper.ts';
import { knownEgresses } from './known-egresses.ts';
import { ruleHandlersFor } from './rule-handlers.ts';
import { eventHandlersFor } from './event-handlers.ts';
import { modeHandlersFor } from './mode-handlers.ts';
import { connectionHandlersFor } from './connections-handlers.ts';
import { dnsHandlersFor } from './dns-handlers.ts';
import { ApiServer } from './server.ts';

/** One DNS query's wait in explain; the whole lookup is bounded by the helper's explainResolver. */
const EXPLAIN_QUERY_MS = 1200;

function gatewayOnly(method: string) {
  return (): never => {
    throw new ApiError(
      'UNAVAILABLE',
      `this is a desktop helper; ${method} is answered by \`switchyard gateway\``,
    );
  };
}

export function handlersFor(h: Helper): Handlers {
  const changed = (
    app: string | null,
    summary: string,
    actor: Parameters<Handlers['egress.set']>[1]['actor'],
  ) => h.bus.emit('policy.changed', { app, summary, actor });
  return {
    ...ruleHandlersFor(h),
    ...eventHandlersFor(h),
    ...modeHandlersFor(h),
    ...connectionHandlersFor(h),
    ...dnsHandlersFor(h),
    'status.get': () => h.status(),
    // Counters are sampled only while someone wants them (daemon/counters.ts): answers carrying them sample first.
    'apps.list': async () => {
      await h.freshCounters();
      return h.apps();
    },
    'apps.get': async ({ id }) => {
      h.app(id); // an unknown app fails before any sampling
      await h.freshCounters();
      return h.app(id);
    },
    'processes.list': () => h.runningPrograms(),
    'apps.add': async (p, ctx) => {
      const app = await h.appChanges.addManualApp(p);
      changed(app.id, `added ${app.name}`, ctx.actor);
      return app;
    },
    'apps.remove': async ({ id }, ctx) => {
      await h.appChanges.removeManualApp(id);
      changed(id, `removed ${id}`, ctx.actor);
      return { ok: true as const };
    },
    'apps.enroll': async ({ id, pid }, ctx) => {
      if (ctx.peer.uid !== 0 && ctx.peer.pid !== pid) {
        throw new ApiError(
          'UNAUTHORIZED',
          'only root may move another process; `switchyard run` moves itself',
        );
      }
      const cg = await h.enrollment.enroll(id, pid, 'run');
      return { cgroup: cg.path, tag: h.app(id).tag };
    },
    'apps.launch': async ({ id, command }, ctx) => {
      const pid = await h.enrollment.launch(id, ctx.peer, command);
      changed(id, `launched ${id} (pid ${pid})`, ctx.actor);
      return { pid };
    },
    'catalog.refresh': async () => {
      const apps = await h.syncCatalog();
      await h.adoptRunning(); // apps the rescan found may already be running
      return { apps };
    },
    'interfaces.list': async () => {
      await h.freshCounters();
      await h.wireguard.refresh(h.interfaceList());
      return h.interfaceList();
    },
    'egress.set': async ({ app, choice: asked, allowAbsent }, ctx) => {
      h.app(app); // an unknown app is named before its interfaces are judged
      const choice = checkEgressNames(asked, knownEgresses(h), allowAbsent === true);
      const result = await h.appChanges.setChoice(app, choice);
      changed(app, describeEgressSet(result.name, choice), ctx.actor);
      return result;
    },
    'policy.pause': async ({ paused }, ctx) => {
      await h.setPaused(paused);
      changed(null, paused ? 'all policies paused' : 'policies resumed', ctx.actor);
      return h.status();
    },
    'policy.override': async ({ egress: asked }, ctx) => {
      // Everything through one egress: it must be there (WLAN0 is wlan0).
      const egress = asked ? spellEgresses([asked], knownEgresses(h), false, false)[0]! : null;
      await h.setOverride(egress);
      changed(null, egress ? `everything sent through ${egress}` : 'override turned off', ctx.actor);
      return h.status();
    },
    explain: async ({ app, destination, protocol }, ctx) => {
      const a = h.policyApp(app);
      // As the app would: its resolv.conf and hosts, or else the caller's (the app is not running).
      const running = h.app(app).pids[0];
      let asked = '';
      let dst;
      try {
        dst = await resolveDestination(destination, protocol, async (host) => {
          const files = await filesOf(running ?? ctx.peer.pid);
          const via = files ? viaFiles(files, EXPLAIN_QUERY_MS) : undefined;
          if (via)
            asked = ` (asked ${via.servers.join(', ')}, from ${running ? `${a.name}'s` : `your own resolv.conf: ${a.name} is not running`})`;
          return h.explainResolver.resolve(host, `uid:${ctx.peer.uid}`, via);
        });
      } catch (err) {
        const e = err as Error;
        if (e instanceof LookupError && e.code === 'TIMEOUT')
          throw new ApiError('UNAVAILABLE', `explain: ${destination}: ${e.message}${asked}`);
        if (e instanceof LookupError && e.code === 'BUSY')
          throw new ApiError('UNAVAILABLE', `explain: ${destination}: ${e.message}`);
        const why = e instanceof LookupError ? `the helper ${e.message}` : e.message;
        throw new ApiError(
          'BAD_REQUEST',
          `explain: ${destination}: ${why}; give an IP address, e.g. 192.0.2.1:443 or [2001:db8::1]:443`,
        );
      }
      return explain(a, dst, h.interfaceList(), {
        layout: h.layout,
        ...h.switches,
        routeGet: kernelRouteGet,
        rules: h.rules.forExplain(a.id),
        mode: h.status().mode,
      });
    },
    'tunnels.list': async () => {
      await h.tunnels.refreshBytes();
      return h.tunnels.list();
    },
    'tunnels.add': async (p, ctx) => {
      const t = await h.tunnels.add(p, (name) => h.interfaceList().some((i) => i.name === name));
      changed(null, `tunnel ${t.name} to ${t.gateway} added`, ctx.actor);
      await h.refresh('interfaces');
      return h.tunnels.list().find((x) => x.name === t.name) ?? t;
    },
    'tunnels.remove': async ({ name }, ctx) => {
      await h.tunnels.remove(name);
      await h.refresh('interfaces'); // its device is gone: a tunnel of the same name may come next
      changed(null, `tunnel ${name} removed`, ctx.actor);
      return { ok: true as const };
    },
    'gateway.stats': gatewayOnly('gateway.stats'),
    'gateway.peers.list': gatewayOnly('gateway.peers.list'),
    'gateway.peers.set': gatewayOnly('gateway.peers.set'),
    'gateway.peers.remove': gatewayOnly('gateway.peers.remove'),
    'gateway.groups.revoke': gatewayOnly('gateway.groups.revoke'),
    'events.subscribe': ({ topics }, ctx) => {
      ctx.subscribe(topics);
      return { ok: true as const };
    },
    'events.history': ({ limit }) => h.bus.recent(limit),
  };
}

export async function startServer(h: Helper): Promise<ApiServer> {
  const server = new ApiServer({
    socketPath: h.opts.socketPath,
    group: h.group,
    mode: h.opts.socketMode,
    handlers: handlersFor(h),
    bus: h.bus,
    peerOf: peerOfSocket,
    log: h.log,
  });
  await server.listen();
  return server;
}

export function peerOfSocket(socket: Socket): Peer {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the connection has no file descriptor');
  return native().peerCred(fd);
}
