export * from './runner-sim.js';
export * from './commands.js';
export * from './fake-github.js';
export * from './fake-cache.js';
export * from './git-fixture.js';
export * from './events.js';
export { loadGitHubSpec, normalizeNullable, specExample } from './openapi.js';
export * from './static-gate.js';
