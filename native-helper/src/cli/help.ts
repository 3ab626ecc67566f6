// `switchyard --help`, `switchyard FAMILY --help` and `switchyard COMMAND --help`, all from the
// commands' own usage, summary and example.
import { editDistance, typoLimit } from '../api/edit-distance.ts';
import type { Command } from './commands.ts';

const GLOBAL_OPTIONS = [
  'global options (before or after the command):',
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

/**
 * The command (or family word) argv most likely meant: `egres set` → egress set, `tunel` → tunnel,
 * `app shwo` → app show. Null when nothing is close enough to be a typo.
 */
export function suggestCommand(commands: readonly Command[], argv: readonly string[]): string | null {
  const words = argv.filter((w) => !w.startsWith('-'));
  // A family word typed right (`app shwo`): the typo is in the command after it.
  const inFamily = words.length > 1 && family(commands, words[0]!).length > 0;
  const names = new Set(
    inFamily
      ? commands.filter((c) => c.name.startsWith(`${words[0]} `)).map((c) => c.name)
      : [...commands.map((c) => c.name), ...commands.map((c) => c.name.split(' ')[0]!)],
  );
  let best: { name: string; distance: number; words: number } | null = null;
  for (const name of names) {
    const n = name.split(' ').length;
    if (words.length < n) continue;
    const typed = words.slice(0, n).join(' ');
    const distance = editDistance(typed, name);
    if (distance > typoLimit(typed)) continue;
    // A tie goes to the longer name: `egres set` means egress set more than the family egress.
    if (!best || distance < best.distance || (distance === best.distance && n > best.words))
      best = { name, distance, words: n };
  }
  return best?.name ?? null;
}

/** What to say for argv that names no command: the nearest one, and where the list is. */
export function unknownCommand(commands: readonly Command[], argv: readonly string[]): string {
  const members = family(commands, argv[0]!);
  const guess = suggestCommand(commands, argv);
  const words = argv.filter((w) => !w.startsWith('-'));
  const name = guess
    ? words.slice(0, guess.split(' ').length).join(' ')
    : members.length && words[1]
      ? `${words[0]} ${words[1]}`
      : words[0]!;
  const see = members.length ? `switchyard ${argv[0]} --help` : 'switchyard --help';
  return `unknown command '${name}'.${guess ? ` Did you mean ${guess}?` : ''} See \`${see}\``;
}
