export * from './plan.js';
export * from './timings.js';
export * from './store.js';
export * from './native.js';
export * from './discover.js';
export * from './chain.js';
export * from './queue.js';
