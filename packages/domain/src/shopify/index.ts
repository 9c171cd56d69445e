export * from './client';
export * from './credentials';
export * from './orders';
export * from './records';
export * from './days';
export * from './sync';
export * from './webhooks';
