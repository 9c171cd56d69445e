export * from './errors';
export * from './users';
export * from './auth/passwords';
export * from './auth/principal';
export * from './auth/sessions';
export * from './auth/api-tokens';
export * from './auth/authenticate';
