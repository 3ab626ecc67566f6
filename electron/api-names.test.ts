import { describe, expect, it } from 'vitest';
import { events, methods } from '#switchyard/api/schema.ts';
import { shellEvents, shellMethods } from '#switchyard/api/shell-schema.ts';
import {
  HELPER_EVENT_NAMES,
  HELPER_METHOD_NAMES,
  SHELL_EVENT_NAMES,
  SHELL_METHOD_NAMES,
} from './api-names.ts';

const sorted = (xs: readonly string[]) => [...xs].sort();

describe('preload name lists', () => {
  it('match the schema exactly (they are derived from it)', () => {
    expect(sorted(HELPER_METHOD_NAMES)).toEqual(sorted(Object.keys(methods)));
    expect(sorted(SHELL_METHOD_NAMES)).toEqual(sorted(Object.keys(shellMethods)));
    expect(sorted(HELPER_EVENT_NAMES)).toEqual(sorted(Object.keys(events)));
    expect(sorted(SHELL_EVENT_NAMES)).toEqual(sorted(Object.keys(shellEvents)));
  });
});
