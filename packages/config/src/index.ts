export * from './env';
export * from './logger';
export * from './ops';
export * from './lifecycle';
export * from './main';
export * from './service';
