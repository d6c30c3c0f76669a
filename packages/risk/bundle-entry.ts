// Entry for bundling @maestro/risk outside the test runner (scripts/fit-risk-model.mjs).
export * from './src/index.js';
