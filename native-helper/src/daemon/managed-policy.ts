// The read-only managed policy (e.g. /etc/switchyard/managed.json), deployed by fleet tools such as
// Ansible or an MDM. It pins app choices the user cannot override. A missing file pins nothing;
// a bad file is reported as a problem and pins nothing new, but never crashes the helper.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AppId, AppMatcher, EgressChoice, describeZodError } from '../api/schema.ts';
import {
  GroupName,
  RuleAction,
  RuleId,
  RuleMatch,
  Trust,
  TrustDefaults,
  type Rule,
} from '../api/rules-model.ts';
import { ReactionTemplate } from '../api/events-model.ts';

export const ManagedPolicy = z
  .object({
    version: z.literal(1),
    apps: z
      .array(
        z
          .object({
            id: AppId,
            /** Needed only for apps the catalog does not know. */
            name: z.string().min(1).max(200).optional(),
            matchers: AppMatcher.optional(),
            choice: EgressChoice,
          })
          .strict(),
      )
      .max(10_000)
      .default([]),
    /** App groups the user cannot change (a user group of the same name is shadowed). */
    groups: z
      .array(z.object({ name: GroupName, apps: z.array(AppId).max(4096) }).strict())
      .max(256)
      .default([]),
    /** Encryption rules evaluated before everyone else's, locked in the UI and CLI. */
    rules: z
      .array(
        z
          .object({
            id: RuleId,
            name: z.string().min(1).max(120).optional(),
            match: RuleMatch,
            action: RuleAction,
          })
          .strict(),
      )
      .max(4096)
      .default([]),
    trustDefaults: TrustDefaults.optional(),
    /** The trust of networks nobody marked. */
    unknownTrust: Trust.optional(),
    /** Reaction templates the user cannot change or disable; one with a built-in id replaces it. */
    templates: z.array(ReactionTemplate).max(256).default([]),
  })
  .strict();
export type ManagedPolicy = z.infer<typeof ManagedPolicy>;

export const NO_MANAGED_POLICY: ManagedPolicy = {
  version: 1,
  apps: [],
  groups: [],
  rules: [],
  templates: [],
};

/** The managed rules as rules (origin managed), stamped with the time they were read. */
export function managedRules(policy: ManagedPolicy, readAt: Date): Rule[] {
  return policy.rules.map((r) => ({
    id: r.id,
    name: r.name ?? r.id,
    origin: 'managed',
    createdAt: readAt.toISOString(),
    expiresAt: null,
    match: r.match,
    action: r.action,
  }));
}

export type ManagedLoad = { policy: ManagedPolicy; problem: string | null };

export function loadManagedPolicy(path: string | null): ManagedLoad {
  const none = NO_MANAGED_POLICY;
  if (!path) return { policy: none, problem: null };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { policy: none, problem: null };
    return { policy: none, problem: `cannot read the managed policy ${path}: ${(err as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return {
      policy: none,
      problem: `the managed policy ${path} is not valid JSON: ${(err as Error).message}`,
    };
  }
  const r = ManagedPolicy.safeParse(json);
  if (!r.success)
    return { policy: none, problem: `the managed policy ${path} is invalid: ${describeZodError(r.error)}` };
  const ids = new Set<string>();
  for (const a of r.data.apps) {
    if (ids.has(a.id))
      return { policy: none, problem: `the managed policy ${path} lists app '${a.id}' twice` };
    ids.add(a.id);
  }
  const ruleIds = new Set<string>();
  for (const rule of r.data.rules) {
    if (ruleIds.has(rule.id))
      return { policy: none, problem: `the managed policy ${path} lists rule '${rule.id}' twice` };
    ruleIds.add(rule.id);
  }
  return { policy: r.data, problem: null };
}
