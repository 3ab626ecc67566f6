// One short-lived connection per CLI command, with the helper's absence explained in words.
import { ConnectError, HelperSocketClient } from '../api/client.ts';
import { connectionMessage } from '../api/reconnecting-client.ts';
import type { EventEnvelope } from '../api/schema.ts';
import type { Parsed } from './args.ts';

export interface Connection {
  /** Subscribe and print events until the helper goes away or the user interrupts. */
  follow(onEvent: (e: EventEnvelope) => void): Promise<void>;
}

export async function withClient<T>(
  p: Parsed,
  fn: (client: HelperSocketClient, conn: Connection) => Promise<T>,
  _opts: { keepOpen?: boolean } = {},
): Promise<T> {
  let client: HelperSocketClient;
  try {
    client = await HelperSocketClient.connect(p.socket);
  } catch (err) {
    if (err instanceof ConnectError) {
      const refused = err.errno === 'EACCES' || err.errno === 'EPERM';
      throw new Error(
        connectionMessage(refused ? 'refused' : 'absent', p.socket, {
          reason: refused ? `permission denied on ${p.socket}` : `nothing listens on ${p.socket}`,
        }),
        { cause: err },
      );
    }
    throw err;
  }
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
