/**
 * GitHub's official OpenAPI description (`@octokit/openapi`), loaded once per
 * process, normalized, and wrapped in an `openapi-backend` instance used to
 * route and validate every request and response of the fake API.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as OpenAPIBackendModule from 'openapi-backend';
import addFormatsModule from 'ajv-formats';

const require = createRequire(import.meta.url);
// Both packages are CommonJS with a default export.
const OpenAPIBackend = OpenAPIBackendModule.OpenAPIBackend;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (ajv: unknown) => unknown;

export type Backend = InstanceType<typeof OpenAPIBackend>;
export type JsonObject = Record<string, unknown>;

/**
 * The spec uses OpenAPI 3.0 `nullable: true` on schemas without `type`
 * (allOf/$ref wrappers), which Ajv rejects. Rewrite each such schema as
 * `anyOf: [schema, {enum: [null]}]` — the meaning the spec intends — and add
 * null to nullable enums, which Ajv would otherwise reject.
 */
export function normalizeNullable(node: unknown): number {
  let count = 0;
  const walk = (n: unknown) => {
    if (Array.isArray(n)) {
      n.forEach(walk);
      return;
    }
    if (!n || typeof n !== 'object') return;
    const o = n as JsonObject;
    for (const v of Object.values(o)) walk(v);
    // `nullable` with an `enum` that lacks null: GitHub sends null (e.g. a check run's conclusion).
    if (o['nullable'] === true && 'type' in o && Array.isArray(o['enum']) && !(o['enum'] as unknown[]).includes(null)) {
      o['enum'] = [...(o['enum'] as unknown[]), null];
      count++;
    }
    if (o['nullable'] === true && !('type' in o)) {
      const inner: JsonObject = { ...o };
      delete inner['nullable'];
      for (const k of Object.keys(o)) delete o[k];
      o['anyOf'] = [inner, { enum: [null] }];
      count++;
    }
  };
  walk(node);
  return count;
}

let loaded: Promise<{ backend: Backend; definition: JsonObject }> | undefined;

export function specPath(): string {
  return require.resolve('@octokit/openapi/generated/api.github.com.json');
}

/** Load (once per process) and initialise the validating backend. */
export function loadGitHubSpec(): Promise<{ backend: Backend; definition: JsonObject }> {
  loaded ??= (async () => {
    const definition = JSON.parse(readFileSync(specPath(), 'utf8')) as JsonObject;
    normalizeNullable(definition['paths']);
    normalizeNullable(definition['components']);
    const backend = new OpenAPIBackend({
      definition: definition as never,
      quick: true,
      validate: true,
      coerceTypes: true,
      customizeAjv: (ajv: unknown) => {
        addFormats(ajv);
        // GitHub's own format for `owner/name` (pulls/create's head_repo).
        (ajv as { addFormat(name: string, re: RegExp): void }).addFormat('repo.nwo', /^[\w.-]+\/[\w.-]+$/);
        return ajv as never;
      },
    });
    await backend.init();
    return { backend, definition };
  })();
  return loaded;
}

type Operation = NonNullable<ReturnType<Backend['getOperation']>>;
const operationIndex = new WeakMap<Backend, Map<string, Operation>>();
const exampleCache = new WeakMap<Backend, Map<string, unknown>>();

/** `backend.getOperation` scans all ~1,200 operations (3 ms a call); index them once. */
export function operationById(backend: Backend, operationId: string): Operation | undefined {
  let index = operationIndex.get(backend);
  if (!index) {
    index = new Map(backend.getOperations().map((o) => [o.operationId!, o]));
    operationIndex.set(backend, index);
  }
  return index.get(operationId);
}

/** The first example the spec gives for an operation's response (deep copy). */
export function specExample(backend: Backend, operationId: string, status: number): JsonObject | JsonObject[] {
  let cache = exampleCache.get(backend);
  if (!cache) {
    cache = new Map();
    exampleCache.set(backend, cache);
  }
  const key = `${operationId} ${status}`;
  if (!cache.has(key)) cache.set(key, findExample(backend, operationId, status));
  return structuredClone(cache.get(key)) as JsonObject | JsonObject[];
}

function findExample(backend: Backend, operationId: string, status: number): unknown {
  const op = operationById(backend, operationId);
  if (!op) throw new Error(`no operation ${operationId} in the spec`);
  const content = (op.responses?.[String(status)] as { content?: Record<string, { example?: unknown; examples?: Record<string, { value?: unknown }> }> } | undefined)?.content?.['application/json'];
  const ex = content?.example ?? Object.values(content?.examples ?? {})[0]?.value;
  if (ex === undefined) throw new Error(`the spec has no example for ${operationId} ${status}`);
  return ex;
}
