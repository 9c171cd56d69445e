module.exports = {
  ...require('../../jest.preset.js'),
  // The build's standalone copy of this package is not a second package.
  modulePathIgnorePatterns: ['<rootDir>/.next/'],
  // One browser test builds and drives the whole app: it needs more than the preset's 30 s.
  testTimeout: 120000,
};
