// The FakeHelper's connection to the helper in each state (the demo's `?helper=…` picks one), with a
// message of the kind the real shells give (native-helper/src/api/reconnecting-client.ts).
import type { HelperConnection } from '#switchyard/api/shell-schema.ts';

export function connectionFor(state: HelperConnection['state']): HelperConnection {
  const socket = '/run/switchyard/helper.sock';
  const messages: Record<HelperConnection['state'], string> = {
    connected: 'Connected to the helper.',
    connecting: 'Connecting to the helper…',
    absent: `The Switchyard helper is not running (nothing listens on ${socket}).`,
    refused: `You may not talk to the helper: ${socket} belongs to the switchyard group and you are not in it.`,
    incompatible: 'The helper speaks API version 2 and this app speaks version 1; install matching versions.',
  };
  return { state, message: messages[state], socket, retryInMs: state === 'connected' ? null : 5000 };
}
