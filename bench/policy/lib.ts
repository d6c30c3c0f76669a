// Entry for the benchmark bundle: the policy library exactly as the action uses it.
export * from '../../packages/policy/src/index.js';
