/** Two projects: unit specs beside the code, e2e specs under test/ (real database, real HTTP). */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];

module.exports = {
  // Global (Jest ignores it inside a project): e2e suites wait for real expiry times.
  testTimeout: 30000,
  projects: [
    {
      displayName: 'unit',
      rootDir: '.',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
      moduleFileExtensions: ['ts', 'js', 'json'],
      modulePathIgnorePatterns: ['<rootDir>/dist/'],
    },
    {
      displayName: 'e2e',
      rootDir: '.',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
      moduleFileExtensions: ['ts', 'js', 'json'],
      modulePathIgnorePatterns: ['<rootDir>/dist/'],
      setupFiles: ['<rootDir>/test/utils/setup-env.ts'],
    },
  ],
};
