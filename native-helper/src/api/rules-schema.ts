// The API's encryption-rule methods and events: rules, app groups, trust defaults and networks.
// schema.ts spreads them into `methods` and `events`.
import { z } from 'zod';
import { NoParams, Ok, method } from './method.ts';
import { AppId } from './model.ts';
import {
  Group,
  GroupName,
  Network,
  NetworkId,
  RuleAction,
  RuleId,
  RuleInput,
  RuleView,
  Trust,
  TrustDefaults,
} from './rules-model.ts';

export const RuleList = z.object({ rules: z.array(RuleView), defaults: TrustDefaults });
export const NetworkList = z.object({ networks: z.array(Network), unknownTrust: Trust });

export const ruleMethods = {
  'rules.list': method(
    NoParams,
    RuleList,
    'read',
    'Encryption rules in the order they are evaluated (managed, event, user), with the trust defaults.',
  ),
  'rules.add': method(
    z.object({ rule: RuleInput, before: RuleId.optional() }).strict(),
    RuleView,
    'write',
    'Add a user rule at the end of its layer, or before another user rule.',
  ),
  'rules.remove': method(
    z.object({ id: RuleId }).strict(),
    Ok,
    'write',
    'Remove a rule (not a managed one).',
  ),
  'rules.move': method(
    z.object({ id: RuleId, before: RuleId.nullable() }).strict(),
    Ok,
    'write',
    'Move a rule before another of its layer, or to the end of its layer (before: null).',
  ),
  'rules.setDefault': method(
    z.object({ trust: Trust, action: RuleAction }).strict(),
    Ok,
    'write',
    'What happens to flows no rule matches, on trusted or untrusted networks.',
  ),
  'groups.list': method(NoParams, z.array(Group), 'read', 'App groups that rules can name.'),
  'groups.add': method(
    z.object({ name: GroupName, apps: z.array(AppId).max(4096) }).strict(),
    Group,
    'write',
    'Create an app group.',
  ),
  'groups.set': method(
    z.object({ name: GroupName, apps: z.array(AppId).max(4096) }).strict(),
    Group,
    'write',
    "Replace a group's apps.",
  ),
  'groups.remove': method(
    z.object({ name: GroupName }).strict(),
    Ok,
    'write',
    'Remove a group no rule names.',
  ),
  'networks.list': method(
    NoParams,
    NetworkList,
    'read',
    'The networks the uplinks are on now and those seen before, with their trust.',
  ),
  'networks.setTrust': method(
    z.object({ id: NetworkId, trust: Trust.nullable() }).strict(),
    Network,
    'write',
    'Mark a network trusted or untrusted (null: back to the default for unknown networks).',
  ),
  'networks.setUnknownTrust': method(
    z.object({ trust: Trust }).strict(),
    Ok,
    'write',
    'The trust of networks nobody marked (untrusted unless changed).',
  ),
} as const;

export const ruleEvents = {
  /** The rule list, its order, the defaults or a rule's state changed. */
  'rules.changed': RuleList,
  'rule.expired': z.object({ id: RuleId, name: z.string(), expiredAt: z.string() }),
  'groups.changed': z.object({ groups: z.array(Group) }),
  /** An uplink joined or left a network, or a network's trust changed. */
  'networks.changed': z.object({ networks: z.array(Network), unknownTrust: Trust }),
} as const;
