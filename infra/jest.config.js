// The manifests are files: no database or Redis is needed, so the preset's global
// set-up, which prepares the machine's shared test servers, is left out.
const { globalSetup: _setup, globalTeardown: _teardown, ...preset } = require('../jest.preset.js');

module.exports = preset;
