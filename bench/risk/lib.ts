// Entry for the benchmark bundle: the risk model exactly as the action uses it.
export * from '../../packages/risk/src/model.js';
export * from '../../packages/risk/src/jit.js';
export * from '../../packages/risk/src/default-model.data.js';
export * from '../../packages/risk/src/seed.js';
export * from '../../packages/risk/src/anchored.js';
export { seededRandom } from '../../packages/core/src/random.js';
