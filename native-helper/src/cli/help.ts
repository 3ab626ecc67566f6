// `switchyard --help`, `switchyard FAMILY --help` and `switchyard COMMAND --help`, all from the
// commands' own usage, summary and example.
import type { Command } from './commands.ts';

const GLOBAL_OPTIONS = [
  'global options:',
  '  --json              machine-readable output',
  '  --socket PATH       the helper socket (default /run/switchyard/helper.sock, or $SWITCHYARD_SOCKET)',
  '  --instance NAME     talk to a named helper instance (socket /run/switchyard/NAME.sock)',
];

export function usage(commands: readonly Command[]): string {
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
    ...GLOBAL_OPTIONS,
    '',
    '`switchyard COMMAND --help` (or a family: `switchyard rule --help`) shows usage with an example.',
  ].join('\n');
}

/** The command argv names: "rule add" before "rule", as main.ts runs them. */
export function findCommand(commands: readonly Command[], argv: readonly string[]): Command | undefined {
  // The longest name that the first words spell: `gateway peer add`, `rule add`, `rules`.
  for (let words = 3; words >= 1; words--) {
    const name = argv.slice(0, words).join(' ');
    const found = argv.length >= words ? commands.find((c) => c.name === name) : undefined;
    if (found) return found;
  }
  return undefined;
}

/** The commands of a family: `rule` is rule add, rule rm… and `rules`. Empty when word is no family. */
export function family(commands: readonly Command[], word: string): Command[] {
  if (!commands.some((c) => c.name.startsWith(`${word} `))) return [];
  return commands.filter((c) => {
    const first = c.name.split(' ')[0];
    return first === word || first === `${word}s`;
  });
}

/** A long usage on several lines, broken only before an option, each line at most `width` wide. */
export function wrapUsage(text: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let current = '';
  for (const unit of text.split(/ (?=\[|--)/)) {
    const prefix = lines.length ? `${indent}    ` : indent;
    if (current && prefix.length + current.length + 1 + unit.length > width) {
      lines.push(prefix + current);
      current = unit;
    } else current = current ? `${current} ${unit}` : unit;
  }
  lines.push((lines.length ? `${indent}    ` : indent) + current);
  return lines;
}

function entry(c: Command): string[] {
  return [
    ...wrapUsage(`switchyard ${c.usage}`, '  '),
    `      ${c.summary}`,
    ...(c.example ? [`      e.g. ${c.example}`] : []),
  ];
}

export function familyHelp(word: string, members: readonly Command[]): string {
  return [
    `usage: switchyard ${word} COMMAND [options]`,
    '',
    ...members.flatMap((c) => [...entry(c), '']),
    'Add --json to any of them for machine-readable output.',
  ].join('\n');
}

export function commandHelp(c: Command): string {
  return [
    ...wrapUsage(`usage: switchyard ${c.usage}`, ''),
    '',
    c.summary,
    ...(c.notes ? ['', ...c.notes] : []),
    ...(c.example ? ['', 'example:', `  ${c.example}`] : []),
    '',
    ...GLOBAL_OPTIONS,
  ].join('\n');
}

/**
 * Help for `switchyard WORDS… --help`: one command, or a family when WORDS name no command but begin
 * one. Null when nothing is called that.
 */
export function helpFor(commands: readonly Command[], words: readonly string[]): string | null {
  const named = words.filter((w) => !w.startsWith('-'));
  const command = findCommand(commands, named);
  // `rule add --help` is the command; `rule --help` (no command called "rule") the family.
  if (command && (command.name.includes(' ') || family(commands, command.name).length === 0))
    return commandHelp(command);
  const word = named[0];
  const members = word ? family(commands, word) : [];
  if (members.length) return familyHelp(word!, members);
  return command ? commandHelp(command) : null;
}
