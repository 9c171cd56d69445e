export * from './backends';
export * from '@dealdome/db/testing';
export * from './redis';
export * from './ports';
export * from './proxy';
export * from './service-process';
export * from './service-suite';
export * from './fakes';
