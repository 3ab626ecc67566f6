// The judgement calls of app identity in one place: which programs are interpreters or launch
// wrappers, how an app id is derived from a name, and which processes are the system's, not apps.
import { createHash } from 'node:crypto';
import path from 'node:path';

// ---------- interpreters ----------

export interface InterpreterFamily {
  name: string;
  /** Matches the program's basename. */
  program: RegExp;
  /** The same as a regex source for argv[0] in a cmdline matcher. */
  argv0: string;
  /** Options whose value is the next argument. */
  valueOptions: readonly string[];
  /** Options whose next argument is the script (java -jar app.jar). */
  scriptOptions?: readonly string[];
  /** Options whose next argument is a module run as the program (python -m pkg). */
  moduleOptions?: readonly string[];
  /** Options that run inline code: there is no script to match. */
  codeOptions: readonly string[];
  /** A subcommand before the script (deno run main.ts). */
  subcommands?: readonly string[];
  /** Shells: a -c command is itself analysed as a command line. */
  shell?: boolean;
}

const family = (f: InterpreterFamily) => f;

export const INTERPRETERS: readonly InterpreterFamily[] = [
  family({
    name: 'python',
    program: /^(python|pypy)(\d+(\.\d+)*)?m?$/,
    argv0: '(?:python|pypy)[0-9.]*m?',
    valueOptions: ['-W', '-X', '-Q'],
    moduleOptions: ['-m'],
    codeOptions: ['-c'],
  }),
  family({
    name: 'node',
    program: /^(node|nodejs|bun|deno)$/,
    argv0: '(?:node|nodejs|bun|deno)',
    valueOptions: [
      '-r',
      '--require',
      '--import',
      '--loader',
      '--experimental-loader',
      '--conditions',
      '-C',
      '--title',
    ],
    codeOptions: ['-e', '--eval', '-p', '--print'],
    subcommands: ['run'],
  }),
  family({
    name: 'electron',
    program: /^electron\d*$/,
    argv0: 'electron\\d*',
    valueOptions: [],
    codeOptions: [],
  }),
  family({
    name: 'java',
    program: /^java$/,
    argv0: 'java',
    valueOptions: [
      '-cp',
      '-classpath',
      '--class-path',
      '-p',
      '--module-path',
      '--add-modules',
      '--add-opens',
      '--add-exports',
    ],
    scriptOptions: ['-jar'],
    moduleOptions: ['-m', '--module'],
    codeOptions: [],
  }),
  family({
    name: 'shell',
    program: /^(sh|bash|dash|zsh|ksh|mksh|fish)$/,
    argv0: '(?:sh|bash|dash|zsh|ksh|mksh|fish)',
    valueOptions: ['-o', '+o', '--rcfile', '--init-file'],
    codeOptions: ['-c'],
    shell: true,
  }),
  family({
    name: 'script',
    program:
      /^(perl[\d.]*|ruby[\d.]*|php[\d.]*|lua[\d.]*|luajit|tclsh[\d.]*|wish[\d.]*|gjs|mono|wine|wine64|dotnet)$/,
    argv0:
      '(?:perl[0-9.]*|ruby[0-9.]*|php[0-9.]*|lua[0-9.]*|luajit|tclsh[0-9.]*|wish[0-9.]*|gjs|mono|wine|wine64|dotnet)',
    valueOptions: ['-I', '-r', '-d', '-c'],
    scriptOptions: ['-f'],
    codeOptions: ['-e', '-E'],
  }),
];

export function interpreterFamily(program: string): InterpreterFamily | null {
  const base = path.basename(program);
  return INTERPRETERS.find((f) => f.program.test(base)) ?? null;
}

export function isInterpreter(program: string): boolean {
  return interpreterFamily(program) !== null;
}

export type ScriptArgument =
  | { kind: 'script'; value: string }
  | { kind: 'module'; option: string; value: string }
  | { kind: 'code'; value: string }
  | { kind: 'none' };

/** What an interpreter runs, from its arguments (argv without argv[0]). */
export function scriptArgument(f: InterpreterFamily, args: readonly string[]): ScriptArgument {
  let subcommandSeen = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args[i + 1] ? { kind: 'script', value: args[i + 1]! } : { kind: 'none' };
    if (f.codeOptions.includes(arg)) return { kind: 'code', value: args[i + 1] ?? '' };
    if (f.scriptOptions?.includes(arg))
      return args[i + 1] ? { kind: 'script', value: args[i + 1]! } : { kind: 'none' };
    if (f.moduleOptions?.includes(arg)) {
      return args[i + 1] ? { kind: 'module', option: arg, value: args[i + 1]! } : { kind: 'none' };
    }
    if (f.valueOptions.includes(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-') || arg.startsWith('+')) continue;
    if (!subcommandSeen && f.subcommands?.includes(arg)) {
      subcommandSeen = true;
      continue;
    }
    return { kind: 'script', value: arg };
  }
  return { kind: 'none' };
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A cmdline regex: this interpreter family running one of these scripts (or the module), as a whole word. */
export function cmdlinePatternFor(
  f: InterpreterFamily,
  run: ScriptArgument,
  scriptPaths: readonly string[],
): string | null {
  const head = `^(?:\\S*/)?${f.argv0}\\s(?:.*\\s)?`;
  if (run.kind === 'module' && run.value.trim() === '') return null;
  if (run.kind === 'module') return `${head}${escapeRegex(run.option)}\\s+${escapeRegex(run.value)}(?:\\s|$)`;
  const paths = [...new Set(scriptPaths)].filter((p) => p.trim() !== ''); // an empty alternative would match anything
  if (run.kind !== 'script' || paths.length === 0) return null;
  const alternatives = paths.map(escapeRegex).join('|');
  return `${head}(?:${alternatives})(?:\\s|$)`;
}

// ---------- launch wrappers ----------

export interface WrapperRule {
  /** Options whose value is the next argument. */
  valueOptions: readonly string[];
  /** Leading positional arguments before the program (taskset MASK cmd). */
  positionals?: number;
  /** env: NAME=value arguments before the program. */
  assignments?: boolean;
}

/** Programs that start another program: the app is the program they start. */
export const WRAPPERS: Readonly<Record<string, WrapperRule>> = {
  env: { valueOptions: ['-u', '--unset', '-C', '--chdir'], assignments: true },
  exec: { valueOptions: ['-a'] },
  nice: { valueOptions: ['-n', '--adjustment'] },
  ionice: { valueOptions: ['-c', '--class', '-n', '--classdata', '-t'] },
  taskset: { valueOptions: [], positionals: 1 },
  chrt: { valueOptions: [], positionals: 1 },
  nohup: { valueOptions: [] },
  setsid: { valueOptions: [] },
  stdbuf: { valueOptions: ['-i', '-o', '-e'] },
  'prime-run': { valueOptions: [] },
  primusrun: { valueOptions: [] },
  optirun: { valueOptions: [] },
  gamemoderun: { valueOptions: [] },
  mangohud: { valueOptions: [] },
  firejail: { valueOptions: [] },
  torsocks: { valueOptions: ['-u', '-p', '-a', '-P'] },
};

/** Launchers whose process is not the app and whose target we cannot see: never an exe matcher. */
export const OPAQUE_LAUNCHERS: ReadonlySet<string> = new Set([
  'snap',
  'flatpak',
  'bwrap',
  'xdg-open',
  'gtk-launch',
  'gio',
]);

// ---------- app ids ----------

export const APP_ID_MAX = 64;

/** Lowercase, runs of other characters → '-', starts with a letter or digit, at most 64 characters. */
export function slugify(text: string): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, APP_ID_MAX)
    .replace(/[-._]+$/, '');
  return slug || 'app';
}

/** "org.mozilla.firefox.desktop" → "org.mozilla.firefox". */
export function appIdFromDesktopId(desktopId: string): string {
  return slugify(desktopId.replace(/\.desktop$/, ''));
}

export interface IdRequest {
  /** What the id stands for, unique among requests (a desktop id, an exe path…). */
  key: string;
  slug: string;
  /** The key is written exactly as the slug (e.g. "firefox.desktop" → "firefox"): it wins a collision. */
  exact: boolean;
}

/**
 * Give every request a distinct id, deterministically and independent of input order: for each slug
 * the exact request (then the smallest key) keeps it; the others get a suffix hashed from their key,
 * so their ids do not move when unrelated apps come and go.
 */
export function assignAppIds(
  requests: readonly IdRequest[],
  taken: ReadonlySet<string> = new Set(),
): Map<string, string> {
  const bySlug = new Map<string, IdRequest[]>();
  for (const r of requests) bySlug.set(r.slug, [...(bySlug.get(r.slug) ?? []), r]);
  const used = new Set(taken);
  const ids = new Map<string, string>();
  const hashed: IdRequest[] = [];
  for (const [slug, group] of [...bySlug].sort(([a], [b]) => compare(a, b))) {
    group.sort((a, b) => Number(b.exact) - Number(a.exact) || compare(a.key, b.key));
    const [first, ...rest] = group;
    if (!used.has(slug)) {
      ids.set(first!.key, slug);
      used.add(slug);
    } else hashed.push(first!);
    hashed.push(...rest);
  }
  for (const r of hashed.sort((a, b) => compare(a.key, b.key))) {
    const hash = createHash('sha1').update(r.key).digest('hex');
    let id = `${r.slug.slice(0, APP_ID_MAX - 7)}-${hash.slice(0, 6)}`;
    for (let n = 2; used.has(id); n++) id = `${r.slug.slice(0, APP_ID_MAX - 10)}-${hash.slice(0, 6)}${n}`;
    ids.set(r.key, id);
    used.add(id);
  }
  return ids;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------- system processes ----------

const SYSTEM_DIRS = ['/usr/sbin/', '/sbin/', '/usr/lib/systemd/', '/lib/systemd/', '/usr/libexec/'];

/** Session plumbing that runs as the user but is not an app anyone routes. */
const SESSION_DAEMONS = new RegExp(
  '^(' +
    [
      'systemd.*',
      'dbus-daemon',
      'dbus-broker.*',
      '(pipewire|wireplumber|pulseaudio).*',
      'gvfs.*',
      'at-spi.*',
      'xdg-.*-portal.*',
      'xdg-permission-store',
      'gnome-keyring-daemon',
      'gpg-agent',
      'ssh-agent',
      'ibus.*',
      'fcitx.*',
      'Xorg',
      'Xwayland',
      'X',
      'gnome-shell',
      'gnome-session.*',
      'kwin_.*',
      'plasmashell',
      'ksmserver',
      'kded\\d*',
      'kglobalaccel\\d*',
      'tracker-.*',
      'localsearch.*',
      'dconf-service',
      'evolution-.*',
      'goa-.*',
      'gsd-.*',
      'xfce4-.*',
      'xfwm4',
      'xfsettingsd',
      'lxsession',
      'lxpanel',
      'openbox',
      'mutter',
      'dunst',
      'notification-daemon',
      'polkit.*',
      'tmux.*',
      'screen',
      'sudo',
      'su',
      'login',
      'sshd',
      'agetty',
      'switchyard.*',
    ].join('|') +
    ')$',
);

/** Whether a process belongs to the system rather than to an app a user would route. Conservative. */
export function isSystemProcess(proc: { exe: string | null; uid?: number | undefined }): boolean {
  if (!proc.exe) return true; // kernel threads have no executable
  if (proc.exe.startsWith('/memfd:')) return true; // anonymous executables (container runtimes) have no stable identity
  if (proc.uid !== undefined && (proc.uid < 1000 || proc.uid === 65534)) return true;
  if (SYSTEM_DIRS.some((d) => proc.exe!.startsWith(d))) return true;
  return SESSION_DAEMONS.test(path.basename(proc.exe));
}
