/**
 * The sticky comment: one per pull request, found by a hidden marker **and**
 * the author being the token's own identity (a marker anyone can paste is not
 * enough), updated in place, never overwritten by older data.
 *
 * Marker: `<!-- maestro:health v1 sha=<head> run=<id>.<attempt> digest=<sha256> [state=<conclusion>] -->`.
 * The digest is of the rendered body without the marker: an unchanged body
 * means no write at all.
 */
import { createHash } from 'node:crypto';

export const MARKER_PREFIX = '<!-- maestro:health v1 ';

export interface Marker {
  sha: string;
  run: number;
  attempt: number;
  digest: string;
  /** The conclusion the comment shows (to re-post when it gets worse). */
  state?: 'success' | 'neutral' | 'failure';
}

/** What an old comment's marker becomes when a new comment supersedes it: no longer ours to update. */
export const SUPERSEDED = '<!-- maestro:health superseded -->';

/** A comment body with its live marker replaced by SUPERSEDED. */
export function supersededBody(body: string): string {
  return body.replace(/<!-- maestro:health v1 [^>]*-->/, SUPERSEDED);
}

export function digestOf(body: string): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 32);
}

export function marker(m: Marker): string {
  return `${MARKER_PREFIX}sha=${m.sha} run=${m.run}.${m.attempt} digest=${m.digest}${m.state ? ` state=${m.state}` : ''} -->`;
}

export function parseMarker(body: string): Marker | undefined {
  const m = /<!-- maestro:health v1 sha=([0-9a-f]{7,64}) run=(\d+)\.(\d+) digest=([0-9a-f]{8,64})(?: state=(success|neutral|failure))? -->/.exec(body);
  return m ? { sha: m[1]!, run: Number(m[2]), attempt: Number(m[3]), digest: m[4]!, ...(m[5] ? { state: m[5] as Marker['state'] } : {}) } : undefined;
}

const RANK = { success: 0, neutral: 1, failure: 2 } as const;

/** True when `next` shows a worse state than `prev` (e.g. neutral → failure). */
export function worse(prev: Marker['state'], next: Marker['state']): boolean {
  return !!prev && !!next && RANK[next] > RANK[prev];
}

export interface CommentLike {
  id: number;
  body?: string | null;
  user?: { login: string; type?: string } | null;
  created_at?: string;
}

/** Our comments: the marker and the token's identity, oldest first. */
export function ownComments<C extends CommentLike>(comments: readonly C[], identity: string): C[] {
  return comments.filter((c) => c.user?.login === identity && (c.body ?? '').includes(MARKER_PREFIX) && parseMarker(c.body ?? '')).sort((a, b) => a.id - b.id);
}

export type StickyPlan =
  | { action: 'create' }
  | { action: 'update'; id: number; duplicates: number[] }
  | { action: 'unchanged'; id: number; duplicates: number[] }
  | { action: 'stale'; id: number; why: string };

/**
 * What to do given our existing comments. Older data never replaces newer:
 * a comment from a later run (or a later attempt of this run) wins, and so
 * does one about the PR's current head when ours is about an older commit.
 */
export function planSticky(own: readonly CommentLike[], next: Marker, currentHead?: string): StickyPlan {
  if (currentHead && currentHead !== next.sha) return { action: 'stale', id: own[0]?.id ?? 0, why: `the pull request's head is now ${currentHead.slice(0, 12)}; this run is about ${next.sha.slice(0, 12)}` };
  if (!own.length) return { action: 'create' };
  const [keep, ...dups] = own;
  const cur = parseMarker(keep!.body ?? '')!;
  const newer = cur.run > next.run || (cur.run === next.run && cur.attempt > next.attempt);
  if (newer && cur.sha !== next.sha) return { action: 'stale', id: keep!.id, why: `comment ${keep!.id} holds run ${cur.run}.${cur.attempt} about ${cur.sha.slice(0, 12)}, newer than this run ${next.run}.${next.attempt}` };
  if (newer) return { action: 'stale', id: keep!.id, why: `comment ${keep!.id} holds a newer run (${cur.run}.${cur.attempt}) of the same commit` };
  const duplicates = dups.map((d) => d.id);
  if (cur.digest === next.digest && cur.sha === next.sha) return { action: 'unchanged', id: keep!.id, duplicates };
  return { action: 'update', id: keep!.id, duplicates };
}
