// The API handlers of include/exclude mode and of LAN access per app: checked here, committed to the
// policy document by the helper (one transaction with everything else), told as policy.changed.
import { ApiError, type PolicyMode } from '../api/schema.ts';
import type { modeMethods, ModeView } from '../api/mode-schema.ts';
import { LookupError } from '../mechanism/host-resolver.ts';
import { kernelRouteGet } from '../mechanism/netlink/route-get.ts';
import { spellEgresses } from '../policy/egress-names.ts';
import { resolveDestination } from '../policy/evaluate.ts';
import { describeMode, explainUnmanaged } from '../policy/exclude-mode.ts';
import { setLanAccess } from '../policy/model.ts';
import type { Handlers } from './dispatch.ts';
import type { Helper } from './helper.ts';
import { knownEgresses } from './known-egresses.ts';

type ModeHandlers = Pick<Handlers, keyof typeof modeMethods>;

function view(h: Helper): ModeView {
  const mode = h.status().mode ?? { kind: 'include' as const };
  return {
    mode,
    description: describeMode(mode),
    viaUsable:
      mode.kind === 'exclude' ? h.interfaceList().some((i) => i.name === mode.via && i.usable) : null,
  };
}

export function modeHandlersFor(h: Helper): ModeHandlers {
  const changed = (
    app: string | null,
    summary: string,
    actor: Parameters<Handlers['mode.set']>[1]['actor'],
  ) => h.bus.emit('policy.changed', { app, summary, actor });
  return {
    'mode.get': () => view(h),
    'mode.set': async ({ mode: asked }, ctx) => {
      let mode: PolicyMode = asked;
      if (asked.kind === 'exclude') {
        // It must exist now (a tunnel or an interface), spelt as the helper spells it; no "allow absent".
        const via = spellEgresses([asked.via], knownEgresses(h), false, false)[0]!;
        mode = { ...asked, via };
      }
      await h.changePolicy((doc) => ({ ...doc, mode }));
      changed(null, describeMode(mode), ctx.actor);
      return view(h);
    },
    'mode.explain': async ({ destination, protocol }) => {
      let dst;
      try {
        dst = await resolveDestination(destination, protocol, (host) =>
          h.explainResolver.resolve(host, 'mode.explain'),
        );
      } catch (err) {
        const e = err as Error;
        const why = e instanceof LookupError ? `the helper ${e.message}` : e.message;
        throw new ApiError(
          'BAD_REQUEST',
          `explain: ${destination}: ${why}; give an IP address, e.g. 192.0.2.1:443 or [2001:db8::1]:443`,
        );
      }
      const status = h.status();
      return explainUnmanaged(
        status.mode ?? { kind: 'include' },
        status.paused,
        h.interfaceList(),
        dst,
        kernelRouteGet,
      );
    },
    'apps.setLanAccess': async ({ app, on }, ctx) => {
      const a = h.app(app); // an unknown app is named in the user's words
      await h.changePolicy((doc) => setLanAccess(doc, app, on));
      changed(
        app,
        on ? `${a.name} may reach its local networks (LAN access)` : `${a.name}'s LAN access turned off`,
        ctx.actor,
      );
      return h.app(app);
    },
  };
}
