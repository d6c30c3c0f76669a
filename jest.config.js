// Jest 30 in ESM mode (run with NODE_OPTIONS=--experimental-vm-modules; `scripts/test.mjs` does).
// ts-jest transpiles only (isolatedModules); types are checked by `pnpm typecheck`.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.jest.json', diagnostics: false }],
    // openapi-backend (CommonJS) requires this ESM-only package; Node 20 can require(esm) but
    // Jest's module system cannot before Node 24.9, so Jest compiles it to CommonJS.
    // @actions/workflow-parser imports its schema JSON without an import attribute (see the transform).
    '@actions\\+?/?workflow-parser/dist/(workflows/workflow-schema|actions/action-schema)\\.js$': '<rootDir>/scripts/jest-json-attributes.cjs',
    'json-schema-ref-parser/.+\\.js$': ['ts-jest', { useESM: true, tsconfig: { allowJs: true, module: 'ES2022', target: 'ES2022', isolatedModules: true }, diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(\\.pnpm/)?@apidevtools\\+json-schema-ref-parser|@apidevtools/json-schema-ref-parser|(\\.pnpm/)?@actions\\+workflow-parser|@actions/workflow-parser)'],
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/actions/*/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 180000,
  maxWorkers: 2,
};
