// Command-line parsing on top of node:util parseArgs, with errors people can act on.
import { parseArgs } from 'node:util';
import { defaultSocketPath } from '../api/client.ts';

export class UsageError extends Error {}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Everything after `--`, untouched (for `run -- CMD…`). */
  passthrough: string[];
  json: boolean;
  socket: string;
  /** The user chose the socket (--socket, --instance or $SWITCHYARD_SOCKET): no looking for another. */
  socketChosen: boolean;
}

const GLOBAL: OptionSpec = {
  json: { type: 'boolean' },
  socket: { type: 'string' },
  instance: { type: 'string' },
};

export function defaultSocket(instance?: string): string {
  if (instance && instance !== 'default') return `/run/switchyard/${instance}.sock`;
  return defaultSocketPath();
}

export function parseCommandLine(argv: string[], options: OptionSpec): Parsed {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const passthrough = dash >= 0 ? argv.slice(dash + 1) : [];
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      options: { ...GLOBAL, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const values = parsed.values as Parsed['values'];
  const instance = typeof values.instance === 'string' ? values.instance : undefined;
  return {
    values,
    positionals: parsed.positionals,
    passthrough,
    json: values.json === true,
    socket: typeof values.socket === 'string' ? values.socket : defaultSocket(instance),
    socketChosen:
      typeof values.socket === 'string' || instance !== undefined || Boolean(process.env.SWITCHYARD_SOCKET),
  };
}

/**
 * Global options given before the command (`switchyard --socket S app show x`), split from the rest so
 * the command's own parser sees them after its words.
 */
export function leadingGlobals(argv: readonly string[]): { globals: string[]; rest: string[] } {
  const globals: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    const name = a.startsWith('--') ? a.slice(2).split('=')[0]! : '';
    const spec = GLOBAL[name];
    if (!spec) break;
    const inline = a.includes('=');
    if (spec.type === 'string' && !inline) {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('-'))
        throw new UsageError(
          `${a} needs a value, e.g. ${a} ${name === 'socket' ? '/run/switchyard/NAME.sock' : 'NAME'}`,
        );
      globals.push(a, value);
      i += 2;
    } else {
      globals.push(a);
      i += 1;
    }
  }
  return { globals, rest: argv.slice(i) };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function list(p: Parsed, name: string): string[] {
  const v = p.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function required(p: Parsed, name: string, hint: string): string {
  const v = str(p, name);
  if (!v) throw new UsageError(`missing --${name} (${hint})`);
  return v;
}
