// A side pane of details (an app's, a tunnel's) as the keyboard expects it: opening it moves focus
// to its heading, Esc closes it, and closing it gives focus back to the row it was opened from.
// Use on the pane's root element: `<aside {@attach detailPane(() => onclose())}>`.
import type { Attachment } from 'svelte/attachments';

/** Where focus goes when the pane opens: its heading (made focusable with tabindex="-1"), else the pane. */
function focusTarget(pane: HTMLElement): HTMLElement {
  return pane.querySelector<HTMLElement>('h1[tabindex], h2[tabindex], h3[tabindex]') ?? pane;
}

/** Esc belongs to whatever is on top: an open dialog, menu or listbox handles it first. */
function escapeIsTaken(e: KeyboardEvent): boolean {
  if (e.defaultPrevented) return true;
  const t = e.target instanceof Element ? e.target : null;
  return !!t?.closest('[role="dialog"], [role="menu"], [role="listbox"], [aria-expanded="true"]');
}

export function detailPane(onclose: () => void): Attachment<HTMLElement> {
  return (pane) => {
    // The row (or whatever) that had focus when the pane opened; a later row the user picks while
    // the pane is open replaces it.
    let returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const rowKey = (el: HTMLElement | null) => el?.closest<HTMLElement>('[data-row-focus]')?.dataset.rowFocus;
    let returnKey = rowKey(returnTo);

    const target = focusTarget(pane);
    if (target === pane && !pane.hasAttribute('tabindex')) pane.tabIndex = -1;
    target.focus();

    const onfocusin = (e: FocusEvent) => {
      if (e.target instanceof HTMLElement && !pane.contains(e.target)) {
        returnTo = e.target;
        returnKey = rowKey(e.target);
      }
    };
    const onkeydown = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || escapeIsTaken(e)) return;
      e.preventDefault();
      onclose();
    };
    document.addEventListener('focusin', onfocusin);
    document.addEventListener('keydown', onkeydown);

    return () => {
      document.removeEventListener('focusin', onfocusin);
      document.removeEventListener('keydown', onkeydown);
      // Give focus back only if it was in the pane (or lost with it): a click elsewhere keeps its focus.
      const active = document.activeElement;
      if (active && active !== document.body && !pane.contains(active)) return;
      // A virtual list may have re-used the row's element: find the row again by its key.
      const back =
        returnTo?.isConnected && rowKey(returnTo) === returnKey
          ? returnTo
          : returnKey
            ? document.querySelector<HTMLElement>(`[data-row-focus="${CSS.escape(returnKey)}"]`)
            : null;
      // After the pane's own teardown, so the element is not removed under the focus.
      queueMicrotask(() => back?.focus());
    };
  };
}
