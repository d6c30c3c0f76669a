export * from './spdx.js';
