export * from './availability';
export * from './database';
export * from './migrator';
export * from './vector';
export type * from './schema';
