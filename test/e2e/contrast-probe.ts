// Page code (a string, run in chromium) that lists the visible text on screen whose colour falls below
// WCAG AA against what is really behind it: the backgrounds of its ancestors composed, its colour's
// alpha and its ancestors' opacity applied. Disabled controls are exempt, as WCAG allows.
export const LOW_CONTRAST_TEXT = `(() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\\s,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (fg, bg) => [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3])).concat(1);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const backdrop = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) {
        layers.push(c);
        if (c[3] >= 1) break;
      }
    }
    return layers.reverse().reduce((bg, l) => over(l, bg), [255, 255, 255, 1]);
  };
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const t = walk.currentNode;
    const text = t.textContent.trim();
    const el = t.parentElement;
    if (!text || !el) continue;
    if (el.closest('[disabled], [aria-disabled="true"], fieldset:disabled, .disabled, [aria-hidden="true"], option, script, style'))
      continue;
    const range = document.createRange();
    range.selectNodeContents(t);
    const r = range.getBoundingClientRect();
    if (r.width < 1 || r.height < 1 || r.bottom <= 0 || r.top >= innerHeight || r.right <= 0 || r.left >= innerWidth)
      continue;
    // Covered (a drawer, a dialog's backdrop) or clipped away: not seen, not judged.
    const hit = document.elementFromPoint(Math.min(innerWidth - 1, r.left + r.width / 2), Math.min(innerHeight - 1, r.top + r.height / 2));
    if (!hit || !(el.contains(hit) || hit.contains(el))) continue;
    const cs = getComputedStyle(el);
    let opacity = 1;
    for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
    const c = parse(cs.color);
    const bg = backdrop(el);
    const fg = over([c[0], c[1], c[2], c[3] * opacity], bg);
    const size = parseFloat(cs.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
    const got = ratio(fg, bg);
    if (got < (large ? 3 : 4.5) - 0.005) out.push(text.slice(0, 48) + ' (' + got.toFixed(2) + ':1)');
  }
  return [...new Set(out)];
})()`;
