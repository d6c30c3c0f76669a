// Entry for the benchmark bundle: the planner exactly as the action uses it.
export * from '../../packages/shards/src/index.js';
