// Shared by every package's jest.config.js. @swc/jest strips types without checking
// them (tsc does that in `pnpm typecheck`), so it works with any TypeScript version
// and keeps test start-up fast; ts-jest pins a narrow TypeScript range.
const path = require('node:path');

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      },
    ],
  },
  testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  globalSetup: path.join(__dirname, 'packages/testkit/src/global-setup.ts'),
  globalTeardown: path.join(__dirname, 'packages/testkit/src/global-teardown.ts'),
  setupFiles: [path.join(__dirname, 'packages/testkit/src/block-network.ts')],
  testTimeout: 30000,
};
