// How long until something ends, in the words the tray and notifications share.

/** "52 min left", "1 h 5 min left", "ending now"; minutes round up, so "1 min left" until it ends. */
export function timeLeft(until: string, now: number): string {
  const ms = Date.parse(until) - now;
  if (!(ms > 0)) return 'ending now';
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 60) return `${minutes} min left`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h} h ${m} min left` : `${h} h left`;
}
