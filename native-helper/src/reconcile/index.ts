export * from './types.ts';
export * from './actual.ts';
export * from './diff.ts';
export * from './reconciler.ts';
export * from './sysctl.ts';
