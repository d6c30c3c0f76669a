export * from './model.js';
export * from './jit.js';
export * from './signals.js';
