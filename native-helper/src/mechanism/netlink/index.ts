export * from './ns.ts';
export * from './read.ts';
export * from './batch.ts';
export * from './watch.ts';
export * from './neighbors.ts';
