export * from './errors.js';
export * from './inputs.js';
export * from './markdown.js';
export * from './runner.js';
export * from './github.js';
export * from './git.js';
export * from './config.js';
export * from './context.js';
