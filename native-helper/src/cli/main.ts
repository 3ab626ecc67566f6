// `switchyard`: everything the GUI does, from a terminal. Human output by default, --json for scripts.
// Errors are one line on stderr and a non-zero exit code (1: failed, 2: usage).
import { ApiError } from '../api/schema.ts';
import { commands, type Command } from './commands.ts';
import { UsageError, parseCommandLine } from './args.ts';
import { family, familyHelp, findCommand, helpFor, usage } from './help.ts';

async function main(argv: string[]): Promise<number> {
  const isHelp = (a: string) => a === '--help' || a === '-h';
  if (argv.length === 0 || isHelp(argv[0]!) || (argv[0] === 'help' && argv.length === 1)) {
    console.log(usage(commands));
    return argv.length === 0 ? 2 : 0;
  }
  const own = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  if (argv[0] === 'help' || own.some(isHelp)) {
    const words = argv[0] === 'help' ? argv.slice(1) : own;
    const text = helpFor(commands, words);
    if (!text) throw new UsageError(`unknown command '${words[0]}'; see \`switchyard --help\``);
    console.log(text);
    return 0;
  }
  if (argv[0] === '--version') {
    console.log((await import('../version.ts')).VERSION);
    return 0;
  }
  const command: Command | undefined = findCommand(commands, argv);
  if (!command) {
    const members = family(commands, argv[0]!);
    // `switchyard rule` alone: what the family can do, as `switchyard` alone shows everything.
    if (members.length && (argv.length === 1 || argv[1]!.startsWith('-'))) {
      console.log(familyHelp(argv[0]!, members));
      return 2;
    }
    const name = members.length && argv[1] ? `${argv[0]} ${argv[1]}` : argv[0];
    const see = members.length ? `switchyard ${argv[0]} --help` : 'switchyard --help';
    throw new UsageError(`unknown command '${name}'; see \`${see}\``);
  }
  const rest = argv.slice(command.name.split(' ').length);
  const parsed = parseCommandLine(rest, command.options ?? {});
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
      console.error(`switchyard: ${err.message}`);
      process.exitCode = 1;
    } else {
      const e = err as Error;
      console.error(`switchyard: ${e?.message ?? String(err)}`);
      if (process.env.SWITCHYARD_DEBUG) console.error(e?.stack);
      process.exitCode = 1;
    }
  },
);
