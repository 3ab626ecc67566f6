// One short-lived connection per CLI command, with the helper's absence explained in words. When the
// user named no socket and the default one is absent, a single running helper (a lab's) is used.
import { ConnectError, HelperSocketClient } from '../api/client.ts';
import { connectionMessage } from '../api/reconnecting-client.ts';
import type { EventEnvelope } from '../api/schema.ts';
import type { Parsed } from './args.ts';
import { liveHelpers, runDir, severalMessage } from './discover.ts';

export interface Connection {
  /** Subscribe and print events until the helper goes away or the user interrupts. */
  follow(onEvent: (e: EventEnvelope) => void): Promise<void>;
}

async function connect(p: Parsed): Promise<HelperSocketClient> {
  try {
    return await HelperSocketClient.connect(p.socket);
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    const refused = err.errno === 'EACCES' || err.errno === 'EPERM';
    if (!refused && !p.socketChosen) {
      const helpers = await liveHelpers(runDir(p.socket), p.socket);
      if (helpers.length > 1) throw new Error(severalMessage(p.socket, helpers), { cause: err });
      if (helpers.length === 1) {
        const h = helpers[0]!;
        // stderr: --json output on stdout stays clean.
        console.error(`switchyard: no helper at ${p.socket}; using instance ${h.instance} at ${h.socket}`);
        return HelperSocketClient.connect(h.socket);
      }
    }
    throw new Error(
      connectionMessage(refused ? 'refused' : 'absent', p.socket, {
        reason: refused ? `permission denied on ${p.socket}` : `nothing listens on ${p.socket}`,
      }),
      { cause: err },
    );
  }
}

export async function withClient<T>(
  p: Parsed,
  fn: (client: HelperSocketClient, conn: Connection) => Promise<T>,
  _opts: { keepOpen?: boolean } = {},
): Promise<T> {
  const client = await connect(p);
  const conn: Connection = {
    follow: (onEvent) =>
      new Promise<void>((resolve, reject) => {
        client.onEvent(onEvent);
        client.onClose(() => reject(new Error('the helper closed the connection')));
        process.once('SIGINT', () => resolve());
        client.subscribe().catch(reject);
      }),
  };
  try {
    return await fn(client, conn);
  } finally {
    client.close();
  }
}
