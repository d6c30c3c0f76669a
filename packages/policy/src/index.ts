export * from './spdx.js';
export * from './dsl.js';
export * from './deps.js';
export * from './findings.js';
export * from './check.js';
export * from './overrides.js';
