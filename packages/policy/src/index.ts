export * from './spdx.js';
export * from './dsl.js';
