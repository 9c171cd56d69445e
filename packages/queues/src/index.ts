export * from './catalog';
export * from './redis';
export * from './producer';
export * from './worker';
export * from './trace';
export * from './platform';
export * from './admin';
export * from './metrics';
