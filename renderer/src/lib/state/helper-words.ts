// A helper refusal in the words of the form the user filled in: the helper (and the client's own schema
// check) report a bad parameter as `tunnels.add: gatewayPublicKey: a key is …`; people saw a field
// label, so name that instead, and never an API path.
import { methodNames, type ApiError } from '#switchyard/api/schema.ts';

interface Issue {
  path?: unknown[];
  message?: string;
}

/** `labels` maps a parameter path (indices dropped, e.g. "matchers.exe") to its field's label. */
export function inFormWords(err: ApiError, labels: Record<string, string>): string {
  if (err.code !== 'BAD_REQUEST') return err.message;
  const method = methodNames.find((m) => err.message.startsWith(`${m}: `));
  if (!method) return err.message;
  const issue = Array.isArray(err.details) ? (err.details[0] as Issue | undefined) : undefined;
  const rest = err.message.slice(method.length + 2);
  const keys = (issue?.path ?? []).filter((k): k is string => typeof k === 'string');
  let label: string | undefined;
  for (let n = keys.length; n > 0 && !label; n--) label = labels[keys.slice(0, n).join('.')];
  // The schema's own label ("app id: …") repeats what the field's label says.
  const text = (issue?.message ?? rest.replace(/^[\w.]+: /, '')).replace(/^[a-z][a-z ]{0,20}: /, '');
  return label ? `${label}: ${text}` : text;
}
