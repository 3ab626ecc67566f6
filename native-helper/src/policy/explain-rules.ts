// explain's part for encryption rules: which rule decides the flow (as the classifier would), and, for
// encrypt and block, the whole answer. Clear leaves the answer to the egress choice. Pure but for routeGet.
import type { Explanation } from '../api/schema.ts';
import type { ClassifierList } from '../mechanism/bpf/classifier.ts';
import { hex } from '../layout/kernel-layout.ts';
import type { Destination, ExplainContext } from './evaluate.ts';
import type { AppliedRule } from './flow-plan.ts';
import { decide } from './flow-match.ts';
import { describeAction } from './rules.ts';

export interface AppRules {
  list: ClassifierList;
  /** Per entry of the list, the rule it came from. */
  rules: AppliedRule[];
  /** Rule id → its name (defaults have none). */
  names: Record<string, string>;
}

type RuleRef = NonNullable<Explanation['rule']>;

function refOf(r: AppliedRule, names: Record<string, string>): RuleRef {
  return {
    id: r.id,
    name:
      names[r.id] ??
      (r.layer === 'default' ? `the default for ${r.id.replace('default-', '')} networks` : r.id),
    layer: r.layer,
    action: r.action.type,
    tunnel: r.action.type === 'encrypt' ? r.action.tunnel : null,
  };
}

/**
 * Null when no rule applies to the app at all. Otherwise the rule and the steps so far, and a final
 * answer when the rule encrypts or blocks.
 */
export async function explainRule(
  appName: string,
  destination: Destination,
  rules: AppRules | null,
  ctx: ExplainContext,
): Promise<{
  rule: RuleRef | null;
  steps: string[];
  answer: Omit<Explanation, 'app' | 'destination' | 'steps'> | null;
} | null> {
  if (!rules) return null;
  const flow = {
    proto: destination.protocol === 'tcp' ? 6 : 17,
    address: destination.address,
    port: destination.port,
  };
  const d = decide(rules.list, flow);
  if (d.entry === null)
    return {
      rule: null,
      steps: ['No encryption rule matches this flow: it follows the egress choice.'],
      answer: null,
    };
  const applied = rules.rules[d.entry]!;
  const rule = refOf(applied, rules.names);
  const steps = [
    `Encryption rule ${rule.name} (${rule.layer}, ${rule.id}) matches first: ${describeAction(applied.action)}.`,
  ];
  if (d.action === 'block')
    return {
      rule,
      steps,
      answer: {
        verdict: 'block',
        egress: null,
        sourceAddress: null,
        reason: `${appName}'s rule ${rule.name} blocks this flow.`,
        rule,
      },
    };
  if (d.mark === rules.list.appMark) return { rule, steps, answer: null };
  steps.push(`Its sockets get the flow-class mark ${hex(d.mark)}, routed only into ${rule.tunnel}.`);
  const k = await ctx.routeGet(destination.address, d.mark, destination.protocol, destination.port);
  if (!k.ok) {
    steps.push(`The kernel refuses it: ${k.error}.`);
    return {
      rule,
      steps,
      answer: {
        verdict: 'block',
        egress: null,
        sourceAddress: null,
        reason: `Rule ${rule.name} encrypts this flow through ${rule.tunnel}, which is down: the flow is blocked, never sent in clear.`,
        rule,
      },
    };
  }
  steps.push(
    `The kernel routes it out of ${k.dev} from ${k.src ?? 'an automatic source'} (table ${k.table}).`,
  );
  return {
    rule,
    steps,
    answer: {
      verdict: 'egress',
      egress: k.dev,
      sourceAddress: k.src,
      reason: `Rule ${rule.name} encrypts this flow through ${rule.tunnel}.`,
      rule,
    },
  };
}
