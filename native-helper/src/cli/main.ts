// `switchyard`: everything the GUI does, from a terminal. Human output by default, --json for scripts.
// Errors are one line on stderr and a non-zero exit code (1: failed, 2: usage).
import { ApiError } from '../api/schema.ts';
import { commands, type Command } from './commands.ts';
import { UsageError, leadingGlobals, parseCommandLine } from './args.ts';
import { userMessage } from './errors.ts';
import { family, familyHelp, findCommand, helpFor, unknownCommand, usage } from './help.ts';

async function main(argv: string[]): Promise<number> {
  // `switchyard --socket S app show x`: global options may come before the command.
  const { globals, rest } = leadingGlobals(argv);
  const isHelp = (a: string) => a === '--help' || a === '-h';
  if (rest.length === 0 || isHelp(rest[0]!) || (rest[0] === 'help' && rest.length === 1)) {
    console.log(usage(commands));
    return rest.length === 0 ? 2 : 0;
  }
  const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (rest[0] === 'help' || own.some(isHelp)) {
    const words = rest[0] === 'help' ? rest.slice(1) : own;
    const text = helpFor(commands, words);
    if (!text) throw new UsageError(unknownCommand(commands, words));
    console.log(text);
    return 0;
  }
  if (rest[0] === '--version') {
    console.log((await import('../version.ts')).VERSION);
    return 0;
  }
  const command: Command | undefined = findCommand(commands, rest);
  const members = family(commands, rest[0]!);
  // `switchyard rule` (or `gateway`, a command too) alone: what the family can do.
  if (members.length && rest.length === 1 && (!command || (command.name === rest[0] && !command.runsAlone))) {
    console.log(familyHelp(rest[0]!, members));
    return 2;
  }
  // `gateway peer ad`: the family word runs a command of its own, but a word after it meant a sub-command.
  const typoAfterFamily =
    command?.name === rest[0] && members.length && rest.length > 1 && !rest[1]!.startsWith('-');
  if (!command || typoAfterFamily) {
    if (members.length && rest[1]!.startsWith('-')) {
      console.log(familyHelp(rest[0]!, members));
      return 2;
    }
    throw new UsageError(unknownCommand(commands, rest));
  }
  const args = rest.slice(command.name.split(' ').length);
  const parsed = parseCommandLine([...globals, ...args], command.options ?? {});
  return (await command.run(parsed)) ?? 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`switchyard: ${err.message}`);
      process.exitCode = 2;
    } else if (err instanceof ApiError) {
      console.error(`switchyard: ${userMessage(err)}`);
      process.exitCode = 1;
    } else {
      const e = err as Error;
      console.error(`switchyard: ${e?.message ?? String(err)}`);
      if (process.env.SWITCHYARD_DEBUG) console.error(e?.stack);
      process.exitCode = 1;
    }
  },
);
