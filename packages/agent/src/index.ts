export * from './prices.js';
export * from './ledger.js';
export * from './call.js';
export * from './anthropic.js';
export * from './openai.js';
export * from './router.js';
export * from './response-cache.js';
