// The names the preload lets through: the keys of the helper's schema and of the shell's, so a method
// or event added there passes here too. The sandboxed preload must not carry zod, so when
// build/bundle-electron.ts bundles the preload it evaluates this module and inlines the lists it
// exports (inlineAtBundleTime); main and the tests import it as it is.
import { eventNames, methodNames } from '#switchyard/api/schema.ts';
import { shellEventNames, shellMethodNames } from '#switchyard/api/shell-schema.ts';

export const HELPER_METHOD_NAMES: readonly string[] = methodNames;
export const SHELL_METHOD_NAMES: readonly string[] = shellMethodNames;
export const HELPER_EVENT_NAMES: readonly string[] = eventNames;
export const SHELL_EVENT_NAMES: readonly string[] = shellEventNames;

export const CALLABLE_NAMES: readonly string[] = [...HELPER_METHOD_NAMES, ...SHELL_METHOD_NAMES];
export const EVENT_NAMES: readonly string[] = [...HELPER_EVENT_NAMES, ...SHELL_EVENT_NAMES];

/** IPC channels between preload and main. */
export const IPC_CALL = 'switchyard:call';
export const IPC_EVENT = 'switchyard:event';
