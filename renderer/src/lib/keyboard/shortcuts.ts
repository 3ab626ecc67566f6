// Window-wide keys: `/` or Ctrl+F puts the cursor in the current view's search box, as in most
// desktop apps and web pages. Alt+1…N switch views (App.svelte).

/** Typing in a field: `/` is a character there, not a shortcut. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (!(target instanceof HTMLInputElement)) return false;
  return !['button', 'checkbox', 'radio', 'range', 'color', 'file', 'submit', 'reset'].includes(target.type);
}

/** The key asks for search: `/` outside a field, or Ctrl+F anywhere. */
export function wantsSearch(e: KeyboardEvent): boolean {
  if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey) return !isTyping(e.target);
  return e.key.toLowerCase() === 'f' && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey;
}

/** The first search box of the view (a dialog's when one is open), or null when it has none. */
export function searchBox(root: ParentNode): HTMLInputElement | null {
  const scope = root.querySelector<HTMLElement>('[role="dialog"][aria-modal="true"]') ?? root;
  return (
    [
      ...scope.querySelectorAll<HTMLInputElement>(
        'input[type="search"], input[role="searchbox"], [role="search"] input',
      ),
    ].find((el) => !el.disabled && !el.closest('[hidden], [inert]')) ?? null
  );
}

/** Handles the search keys: focuses and selects the search box; false when there is none. */
export function focusSearch(e: KeyboardEvent, root: ParentNode = document): boolean {
  if (!wantsSearch(e)) return false;
  const box = searchBox(root);
  if (!box) return false;
  e.preventDefault();
  box.focus();
  box.select();
  return true;
}
