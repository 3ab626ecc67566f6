export * from './tags.ts';
export * from './model.ts';
export * from './evaluate.ts';
export * from './compile.ts';
