/** What a change does to a path, and who makes it: the two axes path rules are written over. */
export const ACTIONS = ['read', 'write', 'create', 'delete', 'rename'] as const;
export const ACTORS = ['human', 'bot', 'agent'] as const;
export type Action = (typeof ACTIONS)[number];
export type Actor = (typeof ACTORS)[number];
