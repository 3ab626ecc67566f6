// The Exec key of a desktop entry: its quoting rules and its field codes (%f %U %i %c %k %% …).
// The input is the value after the string escapes were undone (so `\\\\` in the file is one `\\` here).

export class ExecLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecLineError';
  }
}

/**
 * Split an Exec value into arguments. Double quotes follow the spec (inside them a backslash escapes
 * `"` `` ` `` `$` and `\`); like GLib, which launches most desktop entries, single quotes and a
 * backslash outside quotes are accepted too.
 */
export function splitExecLine(exec: string): string[] {
  const args: string[] = [];
  let arg = '';
  let inArg = false;
  for (let i = 0; i < exec.length; i++) {
    const ch = exec[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n') {
      if (inArg) args.push(arg);
      arg = '';
      inArg = false;
    } else if (ch === '"') {
      inArg = true;
      const end = readDoubleQuoted(exec, i + 1);
      arg += end.text;
      i = end.next;
    } else if (ch === "'") {
      inArg = true;
      const close = exec.indexOf("'", i + 1);
      if (close < 0) throw new ExecLineError(`Exec line has an unterminated single quote: ${exec}`);
      arg += exec.slice(i + 1, close);
      i = close;
    } else if (ch === '\\' && i + 1 < exec.length) {
      inArg = true;
      arg += exec[++i];
    } else {
      inArg = true;
      arg += ch;
    }
  }
  if (inArg) args.push(arg);
  return args;
}

function readDoubleQuoted(exec: string, start: number): { text: string; next: number } {
  let text = '';
  for (let i = start; i < exec.length; i++) {
    const ch = exec[i]!;
    if (ch === '"') return { text, next: i };
    if (ch === '\\' && i + 1 < exec.length && '"`$\\'.includes(exec[i + 1]!)) text += exec[++i];
    else text += ch;
  }
  throw new ExecLineError(`Exec line has an unterminated double quote: ${exec}`);
}

export interface FieldCodeContext {
  /** The entry's Icon value: `%i` becomes `--icon <icon>`, or nothing without an icon. */
  icon?: string | undefined;
  /** The entry's translated Name, for `%c`. */
  name?: string | undefined;
  /** Where the desktop file is, for `%k`. */
  desktopFilePath?: string | undefined;
}

/**
 * Expand field codes for a launch without files or URLs: %f %F %u %U vanish (an argument that was
 * only such a code is dropped), %i %c %k expand from the entry, %% is a literal %. Deprecated and
 * unknown codes are removed, as the spec asks.
 */
export function expandFieldCodes(args: readonly string[], ctx: FieldCodeContext = {}): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (arg === '%i') {
      if (ctx.icon) out.push('--icon', ctx.icon);
      continue;
    }
    let expanded = '';
    let onlyCodes = true;
    for (let i = 0; i < arg.length; i++) {
      const ch = arg[i]!;
      if (ch !== '%' || i + 1 >= arg.length) {
        expanded += ch;
        onlyCodes = false;
        continue;
      }
      const code = arg[++i]!;
      if (code === '%') {
        expanded += '%';
        onlyCodes = false;
      } else if (code === 'c') expanded += ctx.name ?? '';
      else if (code === 'k') expanded += ctx.desktopFilePath ?? '';
      // Everything else vanishes: file codes (no files at launch), deprecated and unknown codes,
      // and %i inside a longer argument (it cannot become two arguments there).
    }
    if (expanded !== '' || !onlyCodes) out.push(expanded);
  }
  return out;
}

/** Parse an Exec value (already unescaped) into the argv to launch with no files. */
export function parseExecLine(exec: string, ctx: FieldCodeContext = {}): string[] {
  return expandFieldCodes(splitExecLine(exec), ctx);
}
