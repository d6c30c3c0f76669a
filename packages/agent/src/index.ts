export * from './prices.js';
export * from './ledger.js';
