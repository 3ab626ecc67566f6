// The rule editor's form: what the fields hold, and the RuleInput they make once every field is valid.
// Pure, so validation is tested without the dialog.
import {
  GroupName,
  KeyGroupName,
  RuleInput,
  type Protocol,
  type RuleAction,
  type TrustMatch,
} from '#switchyard/api/rules-model.ts';
import { describeZodError } from '#switchyard/api/schema.ts';
import { parseDestinations } from './cidr.ts';
import { parsePorts } from './rule-text.ts';

export const EXPIRY_CHOICES = [
  { value: 0, label: 'Never' },
  { value: 15 * 60, label: '15 minutes' },
  { value: 3600, label: '1 hour' },
  { value: 86_400, label: '1 day' },
] as const;

export interface RuleForm {
  name: string;
  subjectKind: 'app' | 'group';
  app: string;
  group: string;
  /** Free text: CIDRs or addresses separated by commas or spaces. */
  destinations: string;
  /** Free text: "443, 8000-8080". */
  ports: string;
  protocol: Protocol;
  network: TrustMatch;
  action: RuleAction['type'];
  tunnel: string;
  /** Empty: the tunnel's default session; otherwise the key group whose own session carries it. */
  keyGroup: string;
  /** Seconds from now; 0: never. */
  expiresIn: number;
}

export type FormField = 'name' | 'subject' | 'destinations' | 'ports' | 'tunnel' | 'keyGroup';
export type FormErrors = Partial<Record<FormField | 'form', string>>;

export function emptyForm(start: Partial<RuleForm> = {}): RuleForm {
  return {
    name: '',
    subjectKind: 'app',
    app: '',
    group: '',
    destinations: '',
    ports: '',
    protocol: 'any',
    network: 'any',
    action: 'encrypt',
    tunnel: '',
    keyGroup: '',
    expiresIn: 0,
    ...start,
  };
}

/** Every problem by field, or the RuleInput to send. */
export function toRuleInput(
  f: RuleForm,
  known: { apps: ReadonlySet<string>; groups: ReadonlySet<string>; tunnels: ReadonlySet<string> },
): { input: RuleInput; errors: null } | { input: null; errors: FormErrors } {
  const errors: FormErrors = {};
  const name = f.name.trim();
  if (name.length > 120) errors.name = 'A name is at most 120 characters.';
  if (f.subjectKind === 'app' && !known.apps.has(f.app)) errors.subject = 'Pick the app this rule is for.';
  if (f.subjectKind === 'group') {
    if (!f.group) errors.subject = 'Pick a group, or create one with “Manage groups”.';
    else if (!GroupName.safeParse(f.group).success || !known.groups.has(f.group.toLowerCase()))
      errors.subject = `There is no group “${f.group}”.`;
  }
  const destinations = parseDestinations(f.destinations);
  if ('error' in destinations) errors.destinations = destinations.error;
  const ports = parsePorts(f.ports);
  if ('error' in ports) errors.ports = ports.error;
  if (f.action === 'encrypt' && !known.tunnels.has(f.tunnel))
    errors.tunnel = known.tunnels.size
      ? 'Pick the tunnel that carries this traffic.'
      : 'There is no tunnel yet; add one first (switchyard tunnel add), or pick Clear or Block.';
  const keyGroup = f.keyGroup.trim();
  if (f.action === 'encrypt' && keyGroup && !KeyGroupName.safeParse(keyGroup).success)
    errors.keyGroup =
      'A key group is up to 24 lowercase letters, digits, dashes or underscores, such as “work”.';
  if (Object.keys(errors).length || 'error' in destinations || 'error' in ports)
    return { input: null, errors };

  const action: RuleAction =
    f.action === 'encrypt'
      ? { type: 'encrypt', tunnel: f.tunnel, ...(keyGroup ? { keyGroup } : {}) }
      : { type: f.action };
  const input: RuleInput = {
    ...(name ? { name } : {}),
    match: {
      subject: f.subjectKind === 'app' ? { kind: 'app', app: f.app } : { kind: 'group', group: f.group },
      destinations: destinations.values,
      ports: ports.values,
      protocol: f.protocol,
      network: f.network,
    },
    action,
    ...(f.expiresIn > 0 ? { expiresIn: f.expiresIn } : {}),
  };
  // The API's own schema has the last word, so the editor never sends what the helper refuses.
  const checked = RuleInput.safeParse(input);
  if (!checked.success) return { input: null, errors: { form: describeZodError(checked.error) } };
  return { input, errors: null };
}
