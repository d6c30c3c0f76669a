export * from './evidence.js';
export * from './bundle.js';
export * from './render.js';
export * from './sticky.js';
