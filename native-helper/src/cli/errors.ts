// Errors in the CLI's words. The helper (and the client's own schema check) reports a bad parameter as
// `apps.add: matchers.exe.0: exe paths must be absolute`; people typed `--exe`, so name that instead.
import { type ApiError, methodNames } from '../api/schema.ts';
import { ALLOW_ABSENT_HINT } from '../policy/egress-names.ts';

/** Per method: a parameter path (indices dropped) → what the user typed for it. */
const WORDS: Record<string, Record<string, string>> = {
  'apps.get': { id: 'APP' },
  'apps.remove': { id: 'APP' },
  'apps.launch': { id: 'APP' },
  'apps.enroll': { id: '--app' },
  'apps.setUpdateServers': { id: 'APP', destinations: 'CIDR' },
  'apps.add': {
    name: '--name',
    id: '--id',
    matchers: 'app add',
    'matchers.exe': '--exe',
    'matchers.cmdline': '--cmdline',
    'matchers.desktopId': '--desktop-id',
    'matchers.flatpakId': '--flatpak-id',
  },
  'egress.set': { app: 'APP', choice: 'the egress', 'choice.egresses': 'IFACE' },
  'policy.override': { egress: 'IFACE' },
  explain: { app: 'APP', destination: 'HOST[:PORT]' },
  'tunnels.add': {
    name: 'NAME',
    gateway: '--gateway',
    gatewayPublicKey: '--gateway-key',
    privateKey: '--private-key-file',
    addresses: '--address',
    cipher: '--cipher',
  },
  'tunnels.remove': { name: 'NAME' },
  'gateway.peers.set': {
    name: 'NAME',
    publicKey: '--key',
    addresses: '--address',
    apps: '--app',
    groups: '--group',
  },
  'gateway.peers.remove': { name: 'NAME' },
  'findings.report': { app: 'APP', exe: '--exe', file: '--file', pid: '--pid', reason: '--reason' },
  'quarantine.start': { app: 'APP', seconds: '--for', reason: '--reason' },
  'schedules.set': { name: 'NAME', days: '--days', from: '--from', to: '--to' },
};

/** Schema sentences that name API fields, as the CLI says them. */
const SENTENCES: Array<[RegExp, string]> = [
  [
    /an app needs at least one matcher.*/,
    'give at least one of --exe PATH, --cmdline REGEX, --desktop-id ID or --flatpak-id ID',
  ],
  [/^gateway: ('[^']*' is not HOST:PORT)/, '--gateway $1'],
  // zod's own words for lengths and counts.
  [/^Too small: expected string to have >=(\d+) characters?$/, 'give at least $1 characters'],
  [/^Too big: expected string to have <=(\d+) characters?$/, 'give at most $1 characters'],
  [/^Too small: expected array to have >=(\d+) items?$/, 'give it at least $1 times'],
  [/^Too big: expected array to have <=(\d+) items?$/, 'give it at most $1 times'],
  [
    /has no command to launch; give one with command$/,
    'has no command to launch (no desktop entry); start one with `switchyard run --app APP -- COMMAND`',
  ],
];

interface Issue {
  path?: unknown[];
  message?: string;
}

/** "matchers.desktopId" → "--desktop-id": a fallback for parameters the table does not know. */
function asFlag(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function wordFor(method: string, path: unknown[]): string | null {
  const keys = path.filter((k): k is string => typeof k === 'string');
  if (!keys.length) return null;
  const table = WORDS[method] ?? {};
  for (let n = keys.length; n > 0; n--) {
    const hit = table[keys.slice(0, n).join('.')];
    if (hit) return hit;
  }
  return asFlag(keys[keys.length - 1]!);
}

function sentence(message: string, dropLabel = true): string {
  for (const [re, text] of SENTENCES) if (re.test(message)) return message.replace(re, text);
  // The schema's own label ("egress: …", "app id: …") repeats what the flag now says.
  return dropLabel ? message.replace(/^[a-z][a-z ]{0,20}: /, '') : message;
}

/** The message to print for an error from the helper or the client, without API paths. */
export function userMessage(err: ApiError): string {
  if (err.code === 'NOT_FOUND' && err.message.endsWith(ALLOW_ABSENT_HINT))
    return `${err.message.slice(0, -ALLOW_ABSENT_HINT.length)}If it comes later (a tether or a dock), add --allow-absent.`;
  if (err.code !== 'BAD_REQUEST') return err.message;
  const method = methodNames.find((m) => err.message.startsWith(`${m}: `));
  const issue = Array.isArray(err.details) ? (err.details[0] as Issue | undefined) : undefined;
  // The helper's own sentence (explain's lookup, launch), in CLI words where it names API fields.
  if (!method || !issue?.message) return sentence(err.message, false);
  const word = wordFor(method, issue.path ?? []);
  const text = sentence(issue.message);
  return word && word !== 'app add' ? `${word}: ${text}` : text;
}
