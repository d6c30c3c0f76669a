/**
 * SHA-256 of a string (UTF-8), hex. Node's one-shot `crypto.hash` (20.12+) is
 * several times cheaper than `createHash().update().digest()` for the short
 * inputs keys are made of (on Node 24: 0.8 ms vs 5.7 ms for 600 hashes), and
 * gives the same digest as feeding the same text through update() calls.
 */
import * as crypto from 'node:crypto';

const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export function sha256(text: string): string {
  return oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}
