// From a launch argv to what the running app looks like in /proc: the real executable (through PATH,
// symlinks, env/nice-style wrappers and shell-script wrappers), or for interpreted apps a cmdline
// regex on the script, or for `flatpak run` the Flatpak id.
import { constants } from 'node:fs';
import { access, open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { splitExecLine } from './exec-line.ts';
import {
  OPAQUE_LAUNCHERS,
  WRAPPERS,
  cmdlinePatternFor,
  interpreterFamily,
  scriptArgument,
  type InterpreterFamily,
} from './identity-rules.ts';

export interface ExecTarget {
  exe: string[];
  cmdline: string[];
  flatpakId?: string;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MAX_DEPTH = 4;
const SCRIPT_READ_LIMIT = 64 * 1024;

/** An executable regular file by absolute path, or the first one named so in the PATH dirs. */
export async function findProgram(program: string, searchPath: readonly string[]): Promise<string | null> {
  if (program.includes('/'))
    return path.isAbsolute(program) && (await isExecutableFile(program)) ? program : null;
  for (const dir of searchPath) {
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, program);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return null;
}

async function isExecutableFile(file: string): Promise<boolean> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return false;
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** What to match for an app launched with this argv. Empty when nothing can be told (program not installed). */
export async function execTarget(
  argv: readonly string[],
  searchPath: readonly string[],
): Promise<ExecTarget> {
  const target: ExecTarget = { exe: [], cmdline: [] };
  await analyse(argv, searchPath, target, 0);
  target.exe = [...new Set(target.exe)];
  target.cmdline = [...new Set(target.cmdline)];
  return target;
}

async function analyse(
  argv: readonly string[],
  searchPath: readonly string[],
  out: ExecTarget,
  depth: number,
): Promise<void> {
  const args = dropAssignments(argv);
  const program = args[0];
  if (!program || depth > MAX_DEPTH) return;
  const base = path.basename(program);

  if (base === 'flatpak') {
    const id = flatpakRunId(args.slice(1));
    if (id) out.flatpakId ??= id;
    return;
  }
  const wrapper = WRAPPERS[base];
  if (wrapper) return analyse(unwrap(args.slice(1), wrapper), searchPath, out, depth + 1);

  const family = interpreterFamily(base);
  if (family) return analyseInterpreted(family, args, searchPath, out, depth);

  const resolved = await findProgram(program, searchPath);
  if (!resolved) return;
  const real = await realpath(resolved).catch(() => resolved);
  const realFamily = interpreterFamily(real);
  if (realFamily) return analyseInterpreted(realFamily, [real, ...args.slice(1)], searchPath, out, depth);
  if (OPAQUE_LAUNCHERS.has(path.basename(real))) return;

  const head = await readHead(real);
  const shebang = parseShebang(head);
  if (!shebang) {
    out.exe.push(resolved, real);
    return;
  }
  // A script: the kernel runs its interpreter with the script path as an argument.
  const interpreter =
    interpreterFamily(shebang[0]!) ?? (path.basename(shebang[0]!) === 'env' ? envTarget(shebang) : null);
  if (!interpreter) return;
  const pattern = cmdlinePatternFor(interpreter, { kind: 'script', value: resolved }, [resolved, real]);
  if (pattern) out.cmdline.push(pattern);
  if (interpreter.shell) {
    // Shell wrappers usually end in `exec /real/program "$@"`: that program is the app.
    for (const inner of shellExecTargets(head)) await analyse(inner, searchPath, out, depth + 1);
  }
}

async function analyseInterpreted(
  family: InterpreterFamily,
  args: readonly string[],
  searchPath: readonly string[],
  out: ExecTarget,
  depth: number,
): Promise<void> {
  const run = scriptArgument(family, args.slice(1));
  if (run.kind === 'code' && family.shell) {
    // sh -c "…": the command line inside is what runs.
    const inner = safeSplit(run.value);
    if (inner) await analyse(inner, searchPath, out, depth + 1);
    return;
  }
  if (run.kind === 'module') {
    const pattern = cmdlinePatternFor(family, run, []);
    if (pattern) out.cmdline.push(pattern);
    return;
  }
  if (run.kind !== 'script') return; // the bare interpreter: matching it would catch every script
  const paths = [run.value];
  if (path.isAbsolute(run.value)) paths.push(await realpath(run.value).catch(() => run.value));
  const pattern = cmdlinePatternFor(family, run, paths);
  if (pattern) out.cmdline.push(pattern);
}

function dropAssignments(argv: readonly string[]): readonly string[] {
  let i = 0;
  while (i < argv.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[i]!)) i++;
  return argv.slice(i);
}

function unwrap(args: readonly string[], rule: (typeof WRAPPERS)[string]): string[] {
  let positionals = rule.positionals ?? 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args.slice(i + 1);
    if (rule.valueOptions.includes(arg)) i++;
    else if (arg.startsWith('-')) continue;
    else if (rule.assignments && /^[A-Za-z_][A-Za-z0-9_]*=/.test(arg)) continue;
    else if (positionals > 0) positionals--;
    else return args.slice(i);
  }
  return [];
}

const FLATPAK_RUN_VALUE_OPTIONS = [
  '--arch',
  '--branch',
  '--command',
  '--runtime',
  '--runtime-version',
  '--cwd',
];

/** The application id of `flatpak run [options] APP [args]`. */
export function flatpakRunId(args: readonly string[]): string | null {
  const run = args.indexOf('run');
  if (run < 0) return null;
  for (let i = run + 1; i < args.length; i++) {
    const arg = args[i]!;
    if (FLATPAK_RUN_VALUE_OPTIONS.includes(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return null;
}

async function readHead(file: string): Promise<string> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return '';
  try {
    const buf = Buffer.alloc(SCRIPT_READ_LIMIT);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('latin1');
  } finally {
    await handle.close();
  }
}

/** `#!/usr/bin/env python3 -u` → ["/usr/bin/env", "python3", "-u"]; null for binaries. */
export function parseShebang(head: string): string[] | null {
  if (!head.startsWith('#!')) return null;
  const line = head.slice(2, head.indexOf('\n') < 0 ? undefined : head.indexOf('\n')).trim();
  const parts = line.split(/\s+/).filter((p) => p !== '');
  return parts.length ? parts : null;
}

function envTarget(shebang: readonly string[]): InterpreterFamily | null {
  const program = shebang.slice(1).find((a) => !a.startsWith('-') && !a.includes('='));
  return program ? interpreterFamily(program) : null;
}

/**
 * The command lines a shell script execs, with simple top-level NAME=value variables substituted.
 * Words that still hold a variable ("$@", $FLAGS) are runtime arguments and are dropped.
 */
export function shellExecTargets(script: string): string[][] {
  const vars = new Map<string, string>();
  const targets = new Map<string, string[]>();
  const expand = (text: string) =>
    text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (whole, name: string) => vars.get(name) ?? whole);
  for (const line of script.split('\n')) {
    const assignment =
      /^\s*([A-Za-z_][A-Za-z0-9_]*)=("[^"$`]*(?:\$\{?[A-Za-z_]\w*\}?[^"$`]*)*"|'[^']*'|[^\s;#`()]*)\s*(?:#.*)?$/.exec(
        line,
      );
    if (assignment && !vars.has(assignment[1]!)) {
      vars.set(assignment[1]!, expand(assignment[2]!.replace(/^(["'])(.*)\1$/, '$2')));
      continue;
    }
    const exec = /^\s*exec\s+(.+)$/.exec(line);
    const words = exec && safeSplit(exec[1]!);
    if (!words) continue;
    const command: string[] = [];
    for (const word of unwrap(words, WRAPPERS.exec!)) {
      if (/^(;|&&|\|\||\||#|\d?>|<)/.test(word)) break; // the rest of the line is shell syntax
      const expanded = expand(word.replace(/;$/, ''));
      if (!expanded.includes('$') && !expanded.includes('`')) command.push(expanded);
      else if (command.length === 0) break; // the program itself is only known at run time
      if (word.endsWith(';')) break;
    }
    if (command.length) targets.set(command.join('\0'), command);
  }
  return [...targets.values()];
}

function safeSplit(command: string): string[] | null {
  try {
    return splitExecLine(command);
  } catch {
    return null;
  }
}
