// The persisted policy document: what the user chose, validated with zod and versioned.
import { z } from 'zod';
import { AppId, AppMatcher, AppSource, EgressChoice, EgressName, PolicyMode } from '../api/schema.ts';
import {
  Destination,
  GroupName,
  NetworkFingerprint,
  NetworkId,
  Rule,
  Trust,
  TrustDefaults,
} from '../api/rules-model.ts';
import { ActiveEvent, ReactionTemplate, Schedule } from '../api/events-model.ts';
import { MAX_APP_TAG, MAX_CLASSES, TABLES_PER_SLOT } from '../layout/kernel-layout.ts';

export const POLICY_VERSION = 3;

export const PolicyApp = z
  .object({
    id: AppId,
    name: z.string().min(1).max(200),
    icon: z.string().nullable(),
    source: AppSource,
    matchers: AppMatcher,
    tag: z.number().int().min(1).max(MAX_APP_TAG),
    choice: EgressChoice,
    /** Where the app gets its updates: a flagged app may still reach them (the default reaction). */
    updateServers: z.array(Destination).max(64).optional(),
    /** Reaches its local networks under its kill switch (policy/lan-access.ts); absent: no. */
    lanAccess: z.boolean().optional(),
  })
  .strict();
export type PolicyApp = z.infer<typeof PolicyApp>;

export const PolicyDocument = z
  .object({
    version: z.literal(POLICY_VERSION),
    apps: z.array(PolicyApp),
    paused: z.boolean(),
    override: EgressName.nullable(),
    /** The user's DNS servers per egress (daemon/dns-resolvers.ts), used when the system names none. */
    dnsResolvers: z.record(EgressName, z.array(z.string().max(45)).min(1).max(8)).optional(),
    /** Include or exclude mode (policy/exclude-mode.ts); absent: include, as before it existed. */
    mode: PolicyMode.optional(),
    /** Egress name → index n of its routing table (see layout/kernel-layout.ts tableFor). Never reused while listed. */
    egressTables: z.record(
      z.string(),
      z
        .number()
        .int()
        .min(1)
        .max(TABLES_PER_SLOT - 1),
    ),
    /** Named sets of apps that rules can name. */
    groups: z.array(z.object({ name: GroupName, apps: z.array(AppId).max(4096) }).strict()).max(256),
    /** The user's and the events' rules, in order within each layer (managed rules live in the managed file). */
    rules: z.array(Rule).max(4096),
    trustDefaults: TrustDefaults,
    /** Networks seen so far, with the trust the user gave them. */
    networks: z
      .array(
        z
          .object({
            id: NetworkId,
            name: z.string().min(1).max(120),
            fingerprint: NetworkFingerprint,
            trust: Trust.nullable(),
            firstSeen: z.string(),
            lastSeen: z.string(),
          })
          .strict(),
      )
      .max(1024),
    /** The trust of a network never marked: untrusted unless the user says otherwise. */
    unknownTrust: Trust,
    /** Flow class key ("<app tag>><tunnel>/<key group>") → class number; never reused while listed. */
    flowClasses: z.record(z.string(), z.number().int().min(1).max(MAX_CLASSES)),
    /** Events in force (findings, quarantines, networks, schedule windows) and the rules each made. */
    events: z.array(ActiveEvent).max(4096),
    /** The user's reaction templates; one with a built-in template's id replaces it. */
    templates: z.array(ReactionTemplate).max(256),
    schedules: z.array(Schedule).max(64),
    /** The IANA time zone schedules are evaluated in; null: the system's. */
    timeZone: z.string().max(64).nullable(),
  })
  .strict()
  .superRefine((doc, ctx) => {
    const ids = new Set<string>();
    const tags = new Set<number>();
    for (const a of doc.apps) {
      if (ids.has(a.id)) ctx.addIssue({ code: 'custom', message: `app id ${a.id} appears twice` });
      if (tags.has(a.tag)) ctx.addIssue({ code: 'custom', message: `tag ${a.tag} is used by two apps` });
      ids.add(a.id);
      tags.add(a.tag);
    }
    const ns = Object.values(doc.egressTables);
    if (new Set(ns).size !== ns.length)
      ctx.addIssue({ code: 'custom', message: 'two egresses share a routing table' });
    const ruleIds = new Set<string>();
    for (const r of doc.rules) {
      if (ruleIds.has(r.id)) ctx.addIssue({ code: 'custom', message: `rule id ${r.id} appears twice` });
      if (r.origin === 'managed')
        ctx.addIssue({ code: 'custom', message: `rule ${r.id}: managed rules live in the managed policy` });
      ruleIds.add(r.id);
    }
    const groups = new Set<string>();
    for (const g of doc.groups) {
      if (groups.has(g.name.toLowerCase()))
        ctx.addIssue({ code: 'custom', message: `group ${g.name} appears twice` });
      groups.add(g.name.toLowerCase());
    }
    const classes = Object.values(doc.flowClasses);
    if (new Set(classes).size !== classes.length)
      ctx.addIssue({ code: 'custom', message: 'two flow classes share a number' });
  });
export type PolicyDocument = z.infer<typeof PolicyDocument>;

/** What a version-1 document lacks: no groups, rules or networks yet. */
function rulesDefaults() {
  return {
    groups: [],
    rules: [],
    trustDefaults: { trusted: { type: 'clear' as const }, untrusted: { type: 'clear' as const } },
    networks: [],
    unknownTrust: 'untrusted' as const,
    flowClasses: {},
  };
}

/** What a version-2 document lacks: no events, templates or schedules yet. */
function eventsDefaults() {
  return { events: [], templates: [], schedules: [], timeZone: null };
}

export function emptyPolicy(): PolicyDocument {
  return {
    version: POLICY_VERSION,
    apps: [],
    paused: false,
    override: null,
    egressTables: {},
    ...rulesDefaults(),
    ...eventsDefaults(),
  };
}

/** Upgrades from older versions, keyed by the version they upgrade from. */
const migrations: Record<number, (doc: Record<string, unknown>) => Record<string, unknown>> = {
  // 2 added encryption rules, app groups and networks with their trust.
  1: (doc) => ({ ...doc, ...rulesDefaults(), version: 2 }),
  // 3 added events that create rules, reaction templates and schedules.
  2: (doc) => ({ ...doc, ...eventsDefaults(), version: 3 }),
};

/** Parses a stored document (any known version), migrating it to the current version. */
export function parsePolicy(raw: unknown): PolicyDocument {
  if (typeof raw !== 'object' || raw === null)
    throw new Error('policy file is not a JSON object; restore it from a backup or delete it.');
  let doc = raw as Record<string, unknown>;
  let version = typeof doc.version === 'number' ? doc.version : NaN;
  if (version > POLICY_VERSION)
    throw new Error(
      `policy file is version ${version}, newer than this helper (${POLICY_VERSION}); upgrade Switchyard.`,
    );
  while (version < POLICY_VERSION) {
    const step = migrations[version];
    if (!step)
      throw new Error(
        `policy file version ${String(doc.version)} cannot be migrated; restore it from a backup or delete it.`,
      );
    doc = step(doc);
    version = doc.version as number;
  }
  const r = PolicyDocument.safeParse(doc);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`policy file is invalid at ${i.path.join('.') || '(root)'}: ${i.message}.`);
  }
  return r.data;
}

/** The lowest tag no app has; tags of removed apps become free again only after removal. */
export function allocateTag(doc: PolicyDocument): number {
  const used = new Set(doc.apps.map((a) => a.tag));
  for (let t = 1; t <= MAX_APP_TAG; t++) if (!used.has(t)) return t;
  throw new Error(`all ${MAX_APP_TAG} app tags are in use; remove apps before adding more.`);
}

/** Adds an app with a fresh tag (or returns the document unchanged if the id exists). */
export function addApp(
  doc: PolicyDocument,
  app: Omit<PolicyApp, 'tag' | 'choice'> & { choice?: EgressChoice },
): PolicyDocument {
  if (doc.apps.some((a) => a.id === app.id)) return doc;
  const entry = PolicyApp.parse({ ...app, choice: app.choice ?? { mode: 'default' }, tag: allocateTag(doc) });
  return { ...doc, apps: [...doc.apps, entry] };
}

/** Removes the app, its own rules and its group memberships. */
export function removeApp(doc: PolicyDocument, id: string): PolicyDocument {
  return {
    ...doc,
    apps: doc.apps.filter((a) => a.id !== id),
    groups: doc.groups.map((g) => ({ ...g, apps: g.apps.filter((a) => a !== id) })),
    rules: doc.rules.filter((r) => !(r.match.subject.kind === 'app' && r.match.subject.app === id)),
  };
}

export function setChoice(doc: PolicyDocument, id: string, choice: EgressChoice): PolicyDocument {
  if (!doc.apps.some((a) => a.id === id)) throw new Error(`no app "${id}" in the policy; add it first.`);
  const parsed = EgressChoice.parse(choice);
  return { ...doc, apps: doc.apps.map((a) => (a.id === id ? { ...a, choice: parsed } : a)) };
}

/** Sets whether the app reaches its local networks under its kill switch. */
export function setLanAccess(doc: PolicyDocument, id: string, on: boolean): PolicyDocument {
  if (!doc.apps.some((a) => a.id === id)) throw new Error(`no app "${id}" in the policy; add it first.`);
  return {
    ...doc,
    apps: doc.apps.map((a) => {
      if (a.id !== id) return a;
      const { lanAccess: _, ...rest } = a;
      return on ? { ...rest, lanAccess: true } : rest;
    }),
  };
}

/** The mode in force (absent means include). */
export function modeOf(doc: Pick<PolicyDocument, 'mode'>): PolicyMode {
  return doc.mode ?? { kind: 'include' };
}

/** Every egress the policy may route through (app lists, the override, the tunnels rules name). */
export function referencedEgresses(doc: PolicyDocument, extra: readonly string[] = []): string[] {
  const names = new Set<string>();
  for (const a of doc.apps) if (a.choice.mode === 'ordered') for (const e of a.choice.egresses) names.add(e);
  if (doc.override) names.add(doc.override);
  if (doc.mode?.kind === 'exclude') names.add(doc.mode.via);
  for (const r of doc.rules) if (r.action.type === 'encrypt') names.add(r.action.tunnel);
  for (const a of [doc.trustDefaults.trusted, doc.trustDefaults.untrusted])
    if (a.type === 'encrypt') names.add(a.tunnel);
  for (const e of extra) names.add(e);
  return [...names];
}

/**
 * Gives every referenced egress a routing-table index (existing ones keep theirs; the lowest free index
 * is used). Returns the same object when nothing changed, so callers know whether to persist.
 */
export function ensureEgressTables(doc: PolicyDocument, extra: readonly string[] = []): PolicyDocument {
  const missing = referencedEgresses(doc, extra).filter((e) => !(e in doc.egressTables));
  if (missing.length === 0) return doc;
  const used = new Set(Object.values(doc.egressTables));
  const tables = { ...doc.egressTables };
  let n = 1;
  for (const e of missing) {
    while (used.has(n)) n++;
    // The last index is the LAN table's (policy/lan-access.ts LAN_TABLE_INDEX).
    if (n >= TABLES_PER_SLOT - 1)
      throw new Error('no routing table left for another egress; remove unused egresses from the policy.');
    tables[e] = n;
    used.add(n);
  }
  return { ...doc, egressTables: tables };
}

/** Gives every needed flow class a number (kept while listed; the lowest free one is used). */
export function ensureFlowClasses(doc: PolicyDocument, keys: readonly string[]): PolicyDocument {
  const missing = keys.filter((k) => !(k in doc.flowClasses));
  if (missing.length === 0) return doc;
  const used = new Set(Object.values(doc.flowClasses));
  const classes = { ...doc.flowClasses };
  let n = 1;
  for (const k of missing) {
    while (used.has(n)) n++;
    if (n > MAX_CLASSES)
      throw new Error(
        'no flow class left for another app and tunnel; remove encrypt rules that are not needed.',
      );
    classes[k] = n;
    used.add(n);
  }
  return { ...doc, flowClasses: classes };
}
