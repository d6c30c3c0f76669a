/**
 * Action inputs: one zod schema per action, keyed by the exact `action.yml`
 * input names. Pure (reads an env record, never `@actions/core`) so the same
 * parsing is testable without a runner.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';

/** The runner's name mangling: `INPUT_` + name with spaces → `_`, upper-cased; hyphens kept. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

export type Env = Record<string, string | undefined>;

/**
 * Raw values as `core.getInput` would return them (trimmed), except that an
 * unset or empty input is `undefined` so zod defaults apply.
 */
export function readRawInputs(names: readonly string[], env: Env = process.env): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of names) {
    const v = env[inputEnvName(name)];
    const trimmed = v === undefined ? undefined : v.trim();
    out[name] = trimmed === '' ? undefined : trimmed;
  }
  return out;
}

const TRUE = new Set(['true', 'True', 'TRUE']);
const FALSE = new Set(['false', 'False', 'FALSE']);

/** Boolean input with the YAML 1.2 core-schema spelling that `getBooleanInput` accepts. */
export function booleanInput() {
  return z.string().transform((v, ctx) => {
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    ctx.addIssue({ code: 'custom', message: `expected true or false, got '${v}'` });
    return z.NEVER;
  });
}

/** Integer input within bounds. */
export function integerInput(opts: { min?: number; max?: number } = {}) {
  return z.string().transform((v, ctx) => {
    if (!/^[+-]?\d+$/.test(v)) {
      ctx.addIssue({ code: 'custom', message: `expected a whole number, got '${v}'` });
      return z.NEVER;
    }
    const n = Number(v);
    if (opts.min !== undefined && n < opts.min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${opts.min}, got ${n}` });
      return z.NEVER;
    }
    if (opts.max !== undefined && n > opts.max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${opts.max}, got ${n}` });
      return z.NEVER;
    }
    return n;
  });
}

/** A list: one item per line (commas also split unless `lines: true`); blank lines and `#` comments dropped. */
export function listInput(opts: { lines?: boolean } = {}) {
  return z.string().transform((v) =>
    v
      .split(opts.lines ? /\r?\n/ : /\r?\n|,/)
      .map((s) => s.trim())
      .filter((s) => s !== '' && !s.startsWith('#')),
  );
}

/** A JSON value, optionally validated by a schema. */
export function jsonInput<T extends z.ZodType>(schema: T) {
  return z.string().transform((v, ctx): z.output<T> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `is not valid JSON (${(e as Error).message})` });
      return z.NEVER;
    }
    const r = schema.safeParse(parsed);
    if (!r.success) {
      for (const issue of r.error.issues) {
        ctx.addIssue({ code: 'custom', message: `${issue.path.length ? issue.path.join('.') + ': ' : ''}${issue.message}` });
      }
      return z.NEVER;
    }
    return r.data;
  });
}

export type InputSchema = z.ZodObject<z.ZodRawShape>;

/**
 * Parse every input of an action at once. All problems are reported together
 * in one `ConfigError` (file `action input`), each naming the input.
 */
export function parseInputs<S extends InputSchema>(schema: S, env: Env = process.env): z.output<S> {
  const names = Object.keys(schema.shape);
  const raw = readRawInputs(names, env);
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const problems = r.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '?');
    const supplied = raw[name];
    const message =
      issue.code === 'invalid_type' && supplied === undefined ? 'is required but was not set' : issue.message;
    return `input '${name}' ${message}`;
  });
  throw new ConfigError(`Invalid action inputs: ${problems.join('; ')}.`, {
    file: 'workflow step `with:`',
    fix: 'correct the listed inputs in the step that uses this action (see the action README for allowed values)',
  });
}

/** Names of the inputs a schema reads (used by the static gate against action.yml). */
export function inputNames(schema: InputSchema): string[] {
  return Object.keys(schema.shape);
}
