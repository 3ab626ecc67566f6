import { describe, expect, it } from 'vitest';
import { UsageError, parseCommandLine } from './args.ts';
import { commands } from './commands.ts';
import { family, findCommand, helpFor, usage, wrapUsage } from './help.ts';
import { ruleCommands } from './rule-commands.ts';

const NEW = [
  'rules',
  'rule add',
  'rule rm',
  'rule move',
  'rule default',
  'groups',
  'group add',
  'group set',
  'group rm',
  'networks',
  'network trust',
  'network unknown',
];

describe('help', () => {
  it('`switchyard --help` lists the rule, group and network commands together', () => {
    const lines = usage(commands).split('\n');
    const at = NEW.map((name) => lines.findIndex((l) => l.startsWith(`  ${name} `) || l === `  ${name}`));
    expect(at.every((i) => i > 0)).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(ruleCommands.map((c) => c.name)).toEqual(NEW);
  });

  it('a family gives every usage with an example', () => {
    const text = helpFor(commands, ['rule', '--help'])!;
    expect(text.split('\n')[0]).toBe('usage: switchyard rule COMMAND [options]');
    for (const c of family(commands, 'rule')) {
      expect(text).toContain(`switchyard ${c.name}`);
      expect(text).toContain(`e.g. ${c.example}`);
    }
    expect(family(commands, 'rule').map((c) => c.name)).toEqual(NEW.slice(0, 5));
    expect(family(commands, 'group').map((c) => c.name)).toEqual(NEW.slice(5, 9));
    expect(family(commands, 'network').map((c) => c.name)).toEqual(NEW.slice(9));
    expect(helpFor(commands, ['help-me', '--help'])).toBeNull();
  });

  it('one command gives its usage, notes and example; a plain command is not taken for a family', () => {
    const text = helpFor(commands, ['rule', 'add', '--app', 'x', '--help'])!;
    expect(text).toMatch(/^usage: switchyard rule add --app APP\|--group GROUP/);
    expect(text).toContain('DURATION: 90s, 30m, 1h, 2h30m or 1d');
    expect(text).toContain('example:\n  switchyard rule add --app firefox');
    expect(helpFor(commands, ['rules', '-h'])).toMatch(/^usage: switchyard rules\n/);
    expect(helpFor(commands, ['networks', '--help'])).toMatch(/^usage: switchyard networks\n/);
  });

  it('wraps a long usage before an option, within 100 columns', () => {
    const lines = wrapUsage(`usage: switchyard ${findCommand(commands, ['rule', 'add'])!.usage}`, '');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
    expect(lines.slice(1).every((l) => /^ {4}(\[|--)/.test(l))).toBe(true);
    expect(lines.join(' ').replace(/ {5}/g, ' ')).toBe(
      `usage: switchyard ${findCommand(commands, ['rule', 'add'])!.usage}`,
    );
  });

  it.each(ruleCommands.map((c) => [c.name, c.example!]))(
    'the example of %s is a command line the CLI takes',
    async (_name, example) => {
      const argv = example.split(' ').slice(1);
      const command = findCommand(commands, argv)!;
      const rest = argv.slice(command.name.split(' ').length);
      const parsed = parseCommandLine(
        [...rest, '--socket', '/nonexistent/sy-help.sock'],
        command.options ?? {},
      );
      // Past its own checks, each one tries the helper, which is not there.
      const err = await command.run(parsed).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(UsageError);
      expect(String(err)).toContain('/nonexistent/sy-help.sock');
    },
  );
});

describe('--help everywhere', () => {
  it.each(commands.map((c) => [c.name]))('`switchyard %s --help` gives its usage', (name) => {
    const text = helpFor(commands, [...name.split(' '), '--help'])!;
    expect(text).not.toBeNull();
    const c = findCommand(commands, name.split(' '))!;
    // A word that is a command and a family too (gateway) gives the family, which has the command.
    expect(text).toContain(`switchyard ${c.usage.split(' ')[0]}`);
    expect(text).toContain(c.summary);
  });

  it.each([...new Set(commands.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!))])(
    '`switchyard %s` alone lists its commands',
    (word) => {
      const members = family(commands, word);
      expect(members.length).toBeGreaterThan(0);
      const text = helpFor(commands, [word, '--help'])!;
      expect(text.split('\n')[0]).toBe(`usage: switchyard ${word} COMMAND [options]`);
      for (const c of members) expect(text).toContain(`switchyard ${c.usage.split(' ')[0]}`);
    },
  );

  it('egress and tunnel list their subcommands, tunnel show among them', () => {
    expect(family(commands, 'egress').map((c) => c.name)).toEqual(['egress set']);
    expect(family(commands, 'tunnel').map((c) => c.name)).toEqual(
      expect.arrayContaining(['tunnels', 'tunnel show', 'tunnel add', 'tunnel rm']),
    );
    expect(helpFor(commands, ['egress', 'set', '--help'])).toContain('--allow-absent');
  });
});
