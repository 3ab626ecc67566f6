// The app a user names on the command line: its id or its display name, in any case
// (`Lab-Chat`, `lab chat` for "Lab Chat"). A typo gets the nearest name: "Did you mean lab-chat?"
import { nearest } from '../api/edit-distance.ts';
import type { HelperSocketClient } from '../api/client.ts';
import type { App } from '../api/schema.ts';

/** Thrown when no app is called that; exit code 1 like the helper's own NOT_FOUND. */
export class NoSuchApp extends Error {}

/** The id of the app called text, from the apps the helper knows. */
export function pickApp(apps: readonly Pick<App, 'id' | 'name'>[], text: string): string {
  const exact = apps.find((a) => a.id === text);
  if (exact) return exact.id;
  const lower = text.toLowerCase();
  const byId = apps.find((a) => a.id.toLowerCase() === lower);
  if (byId) return byId.id;
  const byName = apps.filter((a) => a.name.toLowerCase() === lower);
  if (byName.length === 1) return byName[0]!.id;
  if (byName.length > 1)
    throw new NoSuchApp(
      `${byName.length} apps are called '${text}': ${byName.map((a) => a.id).join(', ')}; name one by its id`,
    );
  const near = nearest(text, [...apps.map((a) => a.id), ...apps.map((a) => a.name)]);
  // Near a display name: suggest its id, which is what to type.
  const meant = apps.find((a) => a.id === near) ?? apps.find((a) => a.name === near);
  throw new NoSuchApp(
    `no app '${text}'.${meant ? ` Did you mean ${meant.id}?` : ''} \`switchyard apps\` lists them.`,
  );
}

/** pickApp against the helper's list. */
export async function resolveApp(client: HelperSocketClient, text: string): Promise<string> {
  return pickApp(await client.call('apps.list', {}), text);
}
