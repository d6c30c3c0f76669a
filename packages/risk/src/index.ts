export * from './model.js';
export * from './jit.js';
