// Two projects: fast unit specs beside the code, and end-to-end suites in test/
// that boot the real apps against PostgreSQL and Redis.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
    },
    module: { type: 'commonjs' },
  },
];
const moduleNameMapper = {
  '^@kepu/([a-z-]+)$': '<rootDir>/libs/$1/src',
  '^@kepu/([a-z-]+)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
const common = {
  transform: { '^.+\\.(t|j)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|fast-check)/)'],
  moduleNameMapper,
  testEnvironment: 'node',
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      testTimeout: 60000,
    },
  ],
};
