/**
 * zod schemas of the files discovery reads. Loaded on demand (dynamic import)
 * so the common path — valid files checked by the hand-written guards in
 * `guards.ts` — does not pay zod's start-up cost; these produce the exact
 * error (file, line, what is wrong) when a guard rejects a file, and validate
 * maestro.projects.yaml, which needs the full schema.
 */
import { z } from 'zod';

export const targetSchema = z
  .object({
    inputs: z.array(z.string().min(1)).optional(),
    outputs: z.array(z.string().min(1)).optional(),
    env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    global: z.array(z.string().min(1)).optional(),
    'global-replace': z.boolean().optional(),
    targets: z.record(z.string(), targetSchema).optional(),
    projects: z
      .array(
        z
          .object({
            name: z.string().min(1),
            root: z.string().min(1).refine((r) => !r.startsWith('/') && !r.split('/').includes('..'), 'a path inside the repository'),
            'depends-on': z.array(z.string().min(1)).optional(),
            inputs: z.array(z.string().min(1)).optional(),
            targets: z.record(z.string(), targetSchema).optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

export const manifestSchema = z.looseObject({
  name: z.string().optional(),
  workspaces: z.union([z.array(z.string()), z.looseObject({ packages: z.array(z.string()).optional() })]).optional(),
  scripts: z.record(z.string(), z.string()).optional(),
  dependencies: z.record(z.string(), z.string()).optional(),
  devDependencies: z.record(z.string(), z.string()).optional(),
  peerDependencies: z.record(z.string(), z.string()).optional(),
  optionalDependencies: z.record(z.string(), z.string()).optional(),
});
export const pnpmWorkspaceSchema = z.looseObject({ packages: z.array(z.string()).optional() }).nullable();

export const nxProjectSchema = z.looseObject({
  name: z.string().optional(),
  implicitDependencies: z.array(z.string()).optional(),
  targets: z.record(z.string(), z.unknown()).optional(),
});

export const depMap = z.record(z.string(), z.unknown()).optional();
export const pnpmSchema = z.looseObject({
  lockfileVersion: z.union([z.string(), z.number()]),
  importers: z.record(z.string(), z.looseObject({ dependencies: depMap, devDependencies: depMap, optionalDependencies: depMap, peerDependencies: depMap }).nullable()).optional(),
  packages: z.record(z.string(), z.looseObject({}).nullable()).nullable().optional(),
  snapshots: z.record(z.string(), z.looseObject({}).nullable()).nullable().optional(),
  dependencies: depMap,
  devDependencies: depMap,
  optionalDependencies: depMap,
});

export const npmEntry = z.looseObject({
  version: z.string().optional(),
  integrity: z.string().optional(),
  resolved: z.string().optional(),
  link: z.boolean().optional(),
  dependencies: z.record(z.string(), z.string()).optional(),
  devDependencies: z.record(z.string(), z.string()).optional(),
  optionalDependencies: z.record(z.string(), z.string()).optional(),
  peerDependencies: z.record(z.string(), z.string()).optional(),
});
export const npmSchema = z.looseObject({ lockfileVersion: z.number(), packages: z.record(z.string(), npmEntry).optional() });

