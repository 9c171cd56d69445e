export * from './common';
export * from './auth';
export * from './finance';
export * from './reports';
export * from './knowledge';
