// How the API's schema files declare a method, shared by all of them (schema.ts, rules-schema.ts,
// events-schema.ts, gateway-schema.ts, shell-schema.ts). A leaf: it imports only zod.
import { z } from 'zod';

/** Params of a method that takes none. */
export const NoParams = z.object({}).strict();
/** The answer of a method that has nothing else to say. */
export const Ok = z.object({ ok: z.literal(true) });

/** One method: what it takes, what it answers, who may call it, and one line for people. */
export function method<P extends z.ZodType, R extends z.ZodType>(
  params: P,
  result: R,
  access: 'read' | 'write',
  summary: string,
) {
  return { params, result, access, summary };
}
