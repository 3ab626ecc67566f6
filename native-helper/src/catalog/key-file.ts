// The XDG key-file format shared by .desktop files and icon-theme index.theme files:
// `[Group]` headers, `Key=Value` and `Key[locale]=Value` lines, `#` comments, and the value escapes.

/** Group name → (key, including any `[locale]` suffix) → raw (still escaped) value. */
export type KeyFile = Map<string, Map<string, string>>;

const GROUP_LINE = /^\[([^[\]]+)\]$/;
const ENTRY_LINE = /^([A-Za-z0-9-]+(?:\[[^\]\s]+\])?)\s*=\s*(.*)$/;

/** Parse key-file text leniently: malformed lines and keys outside a group are ignored; the last duplicate wins. */
export function parseKeyFile(text: string): KeyFile {
  const groups: KeyFile = new Map();
  let current: Map<string, string> | null = null;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const group = GROUP_LINE.exec(line.trimEnd());
    if (group) {
      const name = group[1]!;
      current = groups.get(name) ?? new Map<string, string>();
      groups.set(name, current);
      continue;
    }
    const entry = ENTRY_LINE.exec(line);
    if (entry && current) {
      // Spaces around `=` are ignored per the spec; a meaningful edge space is written `\s`.
      current.set(entry[1]!, entry[2]!.replace(/\s+$/, ''));
    }
  }
  return groups;
}

const ESCAPES: Record<string, string> = { s: ' ', n: '\n', t: '\t', r: '\r', '\\': '\\' };

/** Undo the string escapes (\s \n \t \r \\). Unknown escapes such as `\;` are kept as written. */
export function unescapeValue(raw: string): string {
  return raw.replace(/\\(.)/g, (whole, ch: string) => ESCAPES[ch] ?? whole);
}

/** Split a `;`-separated list value (an escaped `\;` is a literal semicolon), then unescape each item. */
export function parseListValue(raw: string): string[] {
  const items: string[] = [];
  let item = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === '\\' && raw[i + 1] === ';') {
      item += ';';
      i++;
    } else if (ch === '\\' && i + 1 < raw.length) {
      item += ch + raw[i + 1]!;
      i++;
    } else if (ch === ';') {
      items.push(item);
      item = '';
    } else {
      item += ch;
    }
  }
  if (item !== '') items.push(item);
  return items.map(unescapeValue).filter((s) => s !== '');
}

export function parseBooleanValue(raw: string | undefined): boolean {
  return raw?.trim() === 'true';
}

/**
 * The keys to try for a localized value, best first, per the spec's matching rules:
 * lang_COUNTRY@MODIFIER, lang_COUNTRY, lang@MODIFIER, lang (the .ENCODING part is ignored).
 */
export function localeSuffixes(locale: string): string[] {
  const m = /^([A-Za-z]+)(?:_([A-Za-z0-9]+))?(?:\.[^@]*)?(?:@(.+))?$/.exec(locale.trim());
  if (!m || locale === 'C' || locale === 'POSIX' || locale.startsWith('C.')) return [];
  const [, lang, country, modifier] = m;
  const out: string[] = [];
  if (country && modifier) out.push(`${lang}_${country}@${modifier}`);
  if (country) out.push(`${lang}_${country}`);
  if (modifier) out.push(`${lang}@${modifier}`);
  out.push(lang!);
  return out;
}

/** The user's locale preference from the environment, as gettext reads it (LANGUAGE, LC_ALL, LC_MESSAGES, LANG). */
export function localesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const single = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  const list = env.LANGUAGE && single && !/^(C|POSIX)(\.|$)/.test(single) ? env.LANGUAGE.split(':') : [];
  return [...list, single].filter((l) => l !== '');
}

/** A key's value in the first matching preferred locale, else its unlocalized value (still escaped). */
export function localizedRaw(
  group: Map<string, string>,
  key: string,
  locales: readonly string[],
): string | undefined {
  for (const locale of locales) {
    for (const suffix of localeSuffixes(locale)) {
      const value = group.get(`${key}[${suffix}]`);
      if (value !== undefined) return value;
    }
  }
  return group.get(key);
}
