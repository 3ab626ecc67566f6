// The API handler of the connection history: a thin call into Connections (connections.ts).
import type { connectionMethods } from '../api/connections-schema.ts';
import type { Handlers } from './dispatch.ts';
import type { Helper } from './helper.ts';

type ConnectionHandlers = Pick<Handlers, keyof typeof connectionMethods>;

export function connectionHandlersFor(h: Helper): ConnectionHandlers {
  return {
    'connections.list': ({ app, limit }) => {
      if (app !== undefined) h.app(app); // an unknown app is NOT_FOUND in words, not an empty list
      return h.connections.list(app, limit);
    },
  };
}
