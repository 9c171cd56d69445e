// The fault suite brings up servers of its own in each file (src/platform.ts), so the
// preset's global set-up, which prepares the machine's shared test servers, is left out.
// Files run one at a time: each starts several service processes on a two-core budget.
const { globalSetup: _setup, globalTeardown: _teardown, ...preset } = require('../../jest.preset.js');

module.exports = {
  ...preset,
  testTimeout: 240_000,
  maxWorkers: 1,
};
