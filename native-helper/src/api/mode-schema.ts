// Include/exclude mode and LAN access per app (docs/egress.md). schema.ts spreads these into `methods`.
import { z } from 'zod';
import { method } from './method.ts';
import { App, AppId, PolicyMode } from './model.ts';

/** The mode in force, in words too (as `switchyard mode` prints it). */
export const ModeView = z.object({
  mode: PolicyMode,
  description: z.string(),
  /** The egress of exclude mode is usable now; null in include mode. */
  viaUsable: z.boolean().nullable(),
});
export type ModeView = z.infer<typeof ModeView>;

/** Where a process the helper does not manage would send a flow, and why. */
export const UnmanagedExplanation = z.object({
  destination: z.object({
    host: z.string(),
    address: z.string(),
    port: z.number().int(),
    protocol: z.enum(['tcp', 'udp']),
  }),
  verdict: z.enum(['egress', 'default', 'block']),
  egress: z.string().nullable(),
  sourceAddress: z.string().nullable(),
  reason: z.string(),
  steps: z.array(z.string()),
});
export type UnmanagedExplanation = z.infer<typeof UnmanagedExplanation>;

export const modeMethods = {
  'mode.get': method(z.object({}).strict(), ModeView, 'read', 'Include or exclude mode, in force now.'),
  'mode.set': method(
    z.object({ mode: PolicyMode }).strict(),
    ModeView,
    'write',
    'Include mode (only the chosen apps are routed) or exclude mode (everything else through one egress, with a global kill switch).',
  ),
  'mode.explain': method(
    z
      .object({
        destination: z.string().min(1).max(300).describe('HOST:PORT or [IPv6]:PORT'),
        protocol: z.enum(['tcp', 'udp']).default('tcp'),
      })
      .strict(),
    UnmanagedExplanation,
    'read',
    'Which egress a flow of a process that is not in any app would take, and why.',
  ),
  'apps.setLanAccess': method(
    z.object({ app: AppId, on: z.boolean() }).strict(),
    App,
    'write',
    "Let an app reach its local networks (uplinks' subnets, link-local, mDNS) even while its kill switch holds it.",
  ),
} as const;
