// Entry for the benchmark bundle: the agent engine exactly as agent-step will use it.
export * from '../../packages/agent/src/index.js';
export { seededRandom } from '../../packages/core/src/random.js';
