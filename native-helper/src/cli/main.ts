// `switchyard`: everything the GUI does, from a terminal. Human output by default, --json for scripts.
// Errors are one line on stderr and a non-zero exit code (1: failed, 2: usage).
import { ApiError } from '../api/schema.ts';
import { commands, type Command } from './commands.ts';
import { UsageError, parseCommandLine } from './args.ts';

function usage(): string {
  // Long usages get their summary on the next line, so the help stays readable in 100 columns.
  const width = 36;
  const line = (c: Command) =>
    c.usage.length <= width
      ? `  ${c.usage.padEnd(width)}  ${c.summary}`
      : `  ${c.usage}\n  ${' '.repeat(width)}  ${c.summary}`;
  return [
    'usage: switchyard COMMAND [options]',
    '',
    'commands:',
    ...commands.map(line),
    '',
    'global options:',
    '  --json              machine-readable output',
    '  --socket PATH       the helper socket (default /run/switchyard/helper.sock, or $SWITCHYARD_SOCKET)',
    '  --instance NAME     talk to a named helper instance (socket /run/switchyard/NAME.sock)',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(usage());
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    console.log((await import('../version.ts')).VERSION);
    return 0;
  }
  const command: Command | undefined = findCommand(argv);
  if (!command) {
    const group = commands.some((c) => c.name.startsWith(`${argv[0]} `));
    const name = group && argv[1] && !argv[1].startsWith('-') ? `${argv[0]} ${argv[1]}` : argv[0];
    throw new UsageError(`unknown command '${name}'; see \`switchyard --help\``);
  }
  const rest = argv.slice(command.name.split(' ').length);
  const parsed = parseCommandLine(rest, command.options ?? {});
  return (await command.run(parsed)) ?? 0;
}

function findCommand(argv: string[]): Command | undefined {
  const two = `${argv[0]} ${argv[1] ?? ''}`;
  return commands.find((c) => c.name === two) ?? commands.find((c) => c.name === argv[0]);
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
