import { describe, expect, test } from '@jest/globals';
import { classify, judgeLicence } from '../src/index.js';

const noGpl = { deny: ['GPL-*', 'AGPL-*'] };

describe('SPDX licence semantics (where the anchors go wrong)', () => {
  test('a dual licence passes a deny list when one alternative is clean', () => {
    expect(judgeLicence('MIT OR GPL-3.0-or-later', noGpl)).toEqual({ ok: true, why: 'can be used under MIT' });
  });

  test('an AND with a denied licence is denied (dependency-review-action lets it through)', () => {
    expect(judgeLicence('MIT AND GPL-2.0-only', { deny: ['GPL-2.0-only'] })).toMatchObject({ ok: false, kind: 'denied', why: 'every alternative includes a denied licence (GPL-2.0-only)' });
  });

  test('a GPL family rule does not catch LGPL (a /.*GPL.*/ regex would)', () => {
    expect(judgeLicence('LGPL-2.1-only', noGpl).ok).toBe(true);
    expect(judgeLicence('AGPL-3.0-only', noGpl).ok).toBe(false);
    expect(judgeLicence('LGPL-2.1-only', { deny: ['copyleft'] }).ok).toBe(false);
  });

  test('UNLICENSED is proprietary, not The Unlicense; invalid SPDX is unknown and never corrected', () => {
    expect(classify('UNLICENSED')).toEqual({ kind: 'proprietary' });
    expect(judgeLicence('UNLICENSED', noGpl)).toMatchObject({ ok: false, kind: 'proprietary' });
    expect(judgeLicence('Unlicense', noGpl).ok).toBe(true);
    expect(judgeLicence('Apache 2.0', noGpl)).toMatchObject({ ok: false, kind: 'unknown', why: "licence 'Apache 2.0' is not a valid SPDX expression" });
    expect(judgeLicence('SEE LICENSE IN LICENSE.md', { ...noGpl, unknown: 'allow' }).ok).toBe(true);
  });

  test('allow lists need one alternative made only of allowed licences; exceptions and or-later parse', () => {
    const allow = { allow: ['MIT', 'Apache-2.0', 'BSD-3-Clause'] };
    expect(judgeLicence('(MIT AND BSD-3-Clause) OR GPL-3.0-only', allow)).toEqual({ ok: true, why: 'can be used under MIT AND BSD-3-Clause' });
    expect(judgeLicence('MIT AND ISC', allow)).toMatchObject({ ok: false, kind: 'not-allowed' });
    expect(classify('GPL-2.0-or-later WITH Classpath-exception-2.0')).toEqual({ kind: 'spdx', clauses: [['GPL-2.0-or-later']] });
    expect(judgeLicence('GPL-2.0+', noGpl).ok).toBe(false);
  });
});
