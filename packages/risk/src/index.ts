export * from './model.js';
export * from './jit.js';
export * from './signals.js';
export * from './default-model.js';
export * from './default-model.data.js';
export * from './assess.js';
export * from './codeowners.js';
