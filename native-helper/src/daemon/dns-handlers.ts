// The API handlers of each egress's DNS servers: thin calls into DnsResolvers (dns-resolvers.ts).
import type { dnsMethods } from '../api/dns-schema.ts';
import type { Handlers } from './dispatch.ts';
import type { Helper } from './helper.ts';

type DnsHandlers = Pick<Handlers, keyof typeof dnsMethods>;

export function dnsHandlersFor(h: Helper): DnsHandlers {
  return {
    'dns.show': () => ({ egresses: h.dns.show() }),
    'dns.set': ({ egress, servers }, ctx) => {
      const result = h.dns.set(egress, servers);
      const summary = servers.length
        ? `DNS servers of ${result.egress} set to ${servers.join(', ')}`
        : `DNS servers of ${result.egress} cleared`;
      h.bus.emit('policy.changed', { app: null, summary, actor: ctx.actor });
      return result;
    },
  };
}
