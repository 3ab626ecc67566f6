// The CLI's encryption-rule commands: rules, app groups, trust defaults and networks.
// Arguments are checked (rule-parse.ts) before the helper is asked anything.
import { type Parsed, UsageError, str } from './args.ts';
import type { Command } from './commands.ts';
import { withClient } from './connect.ts';
import { print } from './format.ts';
import { groupsTable, networksText, ruleSummary, rulesTable, trustText } from './rule-format.ts';
import {
  actionSpec,
  checkAppId,
  checkGroupName,
  checkNetworkId,
  checkRuleId,
  parseAction,
  parseTrust,
  ruleAddOptions,
  ruleAddRequest,
} from './rule-parse.ts';

/** The positionals a command takes, no more. */
function args(p: Parsed, most: number, usage: string): string[] {
  if (p.positionals.length > most)
    throw new UsageError(`unexpected ${JSON.stringify(p.positionals[most])}; usage: switchyard ${usage}`);
  return p.positionals;
}

function groupRequest(p: Parsed, verb: 'add' | 'set'): { name: string; apps: string[] } {
  const [name, ...apps] = p.positionals;
  const what = `group ${verb}`;
  const checked = checkGroupName(name, what);
  if (verb === 'add' && apps.length === 0)
    throw new UsageError(`group add: list the group's apps, e.g. \`switchyard group add ${name} firefox\``);
  return { name: checked, apps: apps.map((a) => checkAppId(a, what)) };
}

export const ruleCommands: Command[] = [
  {
    name: 'rules',
    usage: 'rules',
    summary: 'list encryption rules in the order they are evaluated, then the trust defaults',
    example: 'switchyard rules',
    run: async (p) => {
      args(p, 0, 'rules');
      await withClient(p, async (c) => {
        const list = await c.call('rules.list', {});
        print(p, list, () => rulesTable(list, new Date()));
      });
    },
  },
  {
    name: 'rule add',
    usage:
      'rule add --app APP|--group GROUP [--dst CIDR]… [--port N[-M]]… [--proto tcp|udp] [--network trusted|untrusted|any] --action encrypt:TUNNEL[/KEYGROUP]|clear|block [--name N] [--expires DURATION] [--before ID]',
    summary: 'add an encryption rule at the end of the user rules (or before another)',
    example:
      'switchyard rule add --app firefox --dst 198.18.0.0/15 --port 443 --action encrypt:sy-tun0 --expires 1h',
    notes: [
      '--dst and --port repeat (each adds one); without them the rule covers every destination and port.',
      'CIDR: 198.18.0.0/15, fd5a::/16 or one address. Ports: 443 or 8000-8080. --network: the trust of',
      "the network the app's traffic leaves through (default any). DURATION: 90s, 30m, 1h, 2h30m or 1d;",
      'without --expires the rule stays until removed. --before ID: another user rule.',
    ],
    options: ruleAddOptions,
    run: async (p) => {
      const request = ruleAddRequest(p);
      await withClient(p, async (c) => {
        const r = await c.call('rules.add', request);
        print(p, r, () => ruleSummary(r, new Date()));
      });
    },
  },
  {
    name: 'rule rm',
    usage: 'rule rm ID',
    summary: 'remove a rule (managed rules are locked)',
    example: 'switchyard rule rm r-1a2b3c',
    run: async (p) => {
      const id = checkRuleId(args(p, 1, 'rule rm ID')[0], 'rule rm');
      await withClient(p, async (c) =>
        print(p, await c.call('rules.remove', { id }), () => `removed rule ${id}`),
      );
    },
  },
  {
    name: 'rule move',
    usage: 'rule move ID --before ID|--end',
    summary: 'move a rule before another of its layer, or to the end of its layer',
    example: 'switchyard rule move r-1a2b3c --before r-4d5e6f',
    options: { before: { type: 'string' }, end: { type: 'boolean' } },
    run: async (p) => {
      const id = checkRuleId(args(p, 1, 'rule move ID --before ID|--end')[0], 'rule move');
      const beforeText = str(p, 'before');
      if ((beforeText === undefined) === (p.values.end !== true))
        throw new UsageError(
          `rule move: give --before ID or --end, e.g. \`switchyard rule move ${id} --before r-4d5e6f\``,
        );
      const before = beforeText === undefined ? null : checkRuleId(beforeText, '--before');
      await withClient(p, async (c) =>
        print(p, await c.call('rules.move', { id, before }), () =>
          before ? `moved rule ${id} before ${before}` : `moved rule ${id} to the end of its layer`,
        ),
      );
    },
  },
  {
    name: 'rule default',
    usage: 'rule default trusted|untrusted --action encrypt:TUNNEL|clear|block',
    summary: 'what happens to flows no rule matches, on trusted or untrusted networks',
    example: 'switchyard rule default untrusted --action encrypt:sy-tun0',
    options: { action: { type: 'string' } },
    run: async (p) => {
      const usage = 'rule default trusted|untrusted --action encrypt:TUNNEL|clear|block';
      const trust = parseTrust(
        args(p, 1, usage)[0],
        'rule default',
        'switchyard rule default untrusted --action encrypt:sy-tun0',
      );
      const action = parseAction(str(p, 'action'));
      await withClient(p, async (c) =>
        print(
          p,
          await c.call('rules.setDefault', { trust, action }),
          () => `on ${trust} networks, flows no rule matches: ${actionSpec(action)}`,
        ),
      );
    },
  },
  {
    name: 'groups',
    usage: 'groups',
    summary: 'list app groups that rules can name',
    example: 'switchyard groups',
    run: async (p) => {
      args(p, 0, 'groups');
      await withClient(p, async (c) => {
        const groups = await c.call('groups.list', {});
        print(p, groups, () => groupsTable(groups));
      });
    },
  },
  {
    name: 'group add',
    usage: 'group add NAME APP…',
    summary: 'create an app group',
    example: 'switchyard group add work firefox thunderbird',
    run: async (p) => {
      const request = groupRequest(p, 'add');
      await withClient(p, async (c) => {
        const g = await c.call('groups.add', request);
        print(p, g, () => `group ${g.name}: ${g.apps.join(', ')}`);
      });
    },
  },
  {
    name: 'group set',
    usage: 'group set NAME APP…',
    summary: "replace a group's apps (none: empty the group)",
    example: 'switchyard group set work firefox',
    run: async (p) => {
      const request = groupRequest(p, 'set');
      await withClient(p, async (c) => {
        const g = await c.call('groups.set', request);
        print(p, g, () => `group ${g.name}: ${g.apps.join(', ') || 'no apps'}`);
      });
    },
  },
  {
    name: 'group rm',
    usage: 'group rm NAME',
    summary: 'remove a group no rule names',
    example: 'switchyard group rm work',
    run: async (p) => {
      const name = checkGroupName(args(p, 1, 'group rm NAME')[0], 'group rm');
      await withClient(p, async (c) =>
        print(p, await c.call('groups.remove', { name }), () => `removed group ${name}`),
      );
    },
  },
  {
    name: 'networks',
    usage: 'networks',
    summary: 'list the networks the uplinks are on and those seen before, with their trust',
    example: 'switchyard networks',
    run: async (p) => {
      args(p, 0, 'networks');
      await withClient(p, async (c) => {
        const list = await c.call('networks.list', {});
        print(p, list, () => networksText(list, new Date()));
      });
    },
  },
  {
    name: 'network trust',
    usage: 'network trust ID trusted|untrusted|default',
    summary: 'mark a network trusted or untrusted (default: as networks nobody marked)',
    example: 'switchyard network trust n-0123456789ab trusted',
    run: async (p) => {
      const [idText, level] = args(p, 2, 'network trust ID trusted|untrusted|default');
      const id = checkNetworkId(idText, 'network trust');
      if (level !== 'default' && level !== 'trusted' && level !== 'untrusted')
        throw new UsageError(
          `network trust: say trusted, untrusted or default, e.g. \`switchyard network trust ${id} trusted\``,
        );
      const trust = level === 'default' ? null : level;
      await withClient(p, async (c) => {
        const n = await c.call('networks.setTrust', { id, trust });
        print(p, n, () => `${n.name} (${n.id}): ${trustText(n)}`);
      });
    },
  },
  {
    name: 'network unknown',
    usage: 'network unknown trusted|untrusted',
    summary: 'the trust of networks nobody marked',
    example: 'switchyard network unknown untrusted',
    run: async (p) => {
      const trust = parseTrust(
        args(p, 1, 'network unknown trusted|untrusted')[0],
        'network unknown',
        'switchyard network unknown untrusted',
      );
      await withClient(p, async (c) =>
        print(
          p,
          await c.call('networks.setUnknownTrust', { trust }),
          () => `Networks nobody marked are ${trust}.`,
        ),
      );
    },
  },
];
