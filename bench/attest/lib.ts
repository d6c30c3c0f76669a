// Entry for the benchmark bundle: the attest library exactly as the action uses it.
export * from '../../packages/attest/src/index.js';
