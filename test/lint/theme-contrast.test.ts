// The UI theme (renderer/src/app.css): every text colour on every background it is drawn on reaches
// WCAG AA (4.5:1), in light and in dark. The colours are read from app.css itself, so a changed
// variable is checked.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const CSS = readFileSync(new URL('../../renderer/src/app.css', import.meta.url), 'utf8');

/** The custom properties declared in the first rule whose selector is exactly `selector`. */
function block(selector: string): Record<string, string> {
  const start = CSS.indexOf(`${selector} {`);
  if (start < 0) throw new Error(`app.css has no rule for ${selector}`);
  const body = CSS.slice(CSS.indexOf('{', start) + 1, CSS.indexOf('}', start));
  return Object.fromEntries([...body.matchAll(/(--[\w-]+):\s*([^;]+);/g)].map((m) => [m[1]!, m[2]!.trim()]));
}

function rgb(hex: string): [number, number, number] {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) throw new Error(`not a #rrggbb colour: ${hex}`);
  const n = parseInt(m[1]!, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** WCAG 2 relative luminance. */
function luminance(hex: string): number {
  const [r, g, b] = rgb(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

const BACKGROUNDS = ['--bg', '--sidebar', '--surface', '--surface-2', '--hover'];
/** Text colours used on the plain backgrounds (muted text and "Not running" are --text-2/--text-3). */
const TEXTS = ['--text', '--text-2', '--text-3', '--accent', '--ok', '--warn', '--bad', '--neutral'];
/** Text on a tinted background of its own: badges, banners, the selected row and nav link. */
const PAIRS: [string, string][] = [
  ['--ok', '--ok-bg'],
  ['--warn', '--warn-bg'],
  ['--bad', '--bad-bg'],
  ['--neutral', '--neutral-bg'],
  ['--accent', '--accent-soft'],
  ['--accent-text', '--accent'],
  ['--accent-text', '--accent-hover'],
  ['--text', '--accent-soft'],
  ['--text-2', '--accent-soft'],
  ['--text-3', '--accent-soft'],
  ['--text', '--seg-checked'],
  // A segmented control's count on its checked segment (app.css gives it --text-2 there).
  ['--text-2', '--seg-checked'],
  ['--text-2', '--neutral-bg'],
  ['--text-3', '--neutral-bg'],
  // Upload and download rates are written in their chart colours on cards.
  ['--up', '--surface'],
  ['--up', '--surface-2'],
  ['--down', '--surface'],
  ['--down', '--surface-2'],
];

const THEMES = { light: block(':root'), dark: block(":root[data-theme='dark']") };

describe('theme contrast (WCAG AA, 4.5:1)', () => {
  for (const [name, vars] of Object.entries(THEMES)) {
    const pairs: [string, string][] = [
      ...TEXTS.flatMap((t) => BACKGROUNDS.map((b) => [t, b] as [string, string])),
      ...PAIRS,
    ];
    it.each(pairs)(`${name}: %s on %s`, (fg, bg) => {
      expect(vars[fg], `${fg} in ${name}`).toBeDefined();
      expect(vars[bg], `${bg} in ${name}`).toBeDefined();
      expect(contrast(vars[fg]!, vars[bg]!)).toBeGreaterThanOrEqual(4.5);
    });
  }

  it('uses the same dark colours whether dark comes from the system or is picked in Settings', () => {
    expect(CSS).toContain('@media (prefers-color-scheme: dark)');
    expect(block(":root:not([data-theme='light'])")).toEqual(THEMES.dark);
  });

  it('computes contrast as WCAG does', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
  });
});
