// Entries for the system journal (journald's native protocol, sent by the addon), so the helper's audit
// records are found with `journalctl -t switchyard` beside the rest of the system's.
import { native } from './native.ts';

export const JOURNAL_SOCKET = '/run/systemd/journal/socket';

/** journald's rule for field names; a leading "_" is reserved for the fields journald adds itself. */
const FIELD_NAME = /^[A-Z0-9_]{1,64}$/;

/** syslog priorities: 0 emerg … 3 err, 4 warning, 5 notice, 6 info, 7 debug. */
const PRIORITY = /^[0-7]$/;

/**
 * Sends one entry; adds MESSAGE (the fields in words), PRIORITY (6, info) and
 * SYSLOG_IDENTIFIER=switchyard when missing. Returns false when no journal listens at socketPath (no
 * journald on this machine) or its queue is full; throws on a bad field name or priority, or an entry
 * too big for one datagram.
 */
export function sendToJournal(fields: Record<string, string>, socketPath: string = JOURNAL_SOCKET): boolean {
  for (const [name, value] of Object.entries(fields)) {
    if (!FIELD_NAME.test(name) || name.startsWith('_'))
      throw new Error(
        `Journal field name ${JSON.stringify(name)} is invalid: use 1-64 of A-Z, 0-9 and _, not starting with _.`,
      );
    if (typeof value !== 'string')
      throw new Error(`Journal field ${name} must be a string, not ${typeof value}.`);
  }
  if (fields.PRIORITY !== undefined && !PRIORITY.test(fields.PRIORITY))
    throw new Error(`Journal PRIORITY must be a syslog level 0-7, not ${JSON.stringify(fields.PRIORITY)}.`);
  const entry: Record<string, string> = {
    MESSAGE:
      fields.MESSAGE ??
      Object.entries(fields)
        .map(([name, value]) => `${name}=${value}`)
        .join(' '),
    PRIORITY: fields.PRIORITY ?? '6',
    SYSLOG_IDENTIFIER: fields.SYSLOG_IDENTIFIER ?? 'switchyard',
    ...fields,
  };
  return native().journalSend(entry, socketPath);
}
