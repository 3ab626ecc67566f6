// Checking the Explain form's destination before asking the helper (which checks it too).

/** One sentence saying what is wrong with a host:port destination, or null when it looks right. */
export function destinationProblem(value: string): string | null {
  const v = value.trim();
  if (!v) return 'Enter a destination as host:port, for example example.org:443.';
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/.test(v))
    return 'Write the destination as host:port, for example example.org:443 or [2001:db8::1]:53.';
  const port = Number(v.slice(v.lastIndexOf(':') + 1));
  if (port < 1 || port > 65535) return 'The port must be between 1 and 65535.';
  return null;
}
