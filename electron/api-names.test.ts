import { describe, expect, it } from 'vitest';
import { events, methods, shellEvents, shellMethods } from '../native-helper/src/api/schema.ts';
import {
  HELPER_EVENT_NAMES,
  HELPER_METHOD_NAMES,
  SHELL_EVENT_NAMES,
  SHELL_METHOD_NAMES,
} from './api-names.ts';

const sorted = (xs: readonly string[]) => [...xs].sort();

describe('preload name lists', () => {
  it('match the schema exactly (add a method or event there, then here)', () => {
    expect(sorted(HELPER_METHOD_NAMES)).toEqual(sorted(Object.keys(methods)));
    expect(sorted(SHELL_METHOD_NAMES)).toEqual(sorted(Object.keys(shellMethods)));
    expect(sorted(HELPER_EVENT_NAMES)).toEqual(sorted(Object.keys(events)));
    expect(sorted(SHELL_EVENT_NAMES)).toEqual(sorted(Object.keys(shellEvents)));
  });
});
