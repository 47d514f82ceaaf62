import { describe, expect, it } from 'vitest';
import { CdcError } from '../../errors.js';
import { checkResume, type ResumeState } from './resume.js';

const base: ResumeState = { slot: 'shop', confirmed: null, merged: undefined, copies: new Map(), kept: [] };

function codeOf(state: Partial<ResumeState>): string | undefined {
  try {
    checkResume({ ...base, ...state });
    return undefined;
  } catch (error) {
    return error instanceof CdcError ? error.code : 'not a CdcError';
  }
}

describe('checkResume', () => {
  it('lets a first run through: no slot, nothing merged, no finished copy', () => {
    expect(codeOf({})).toBeUndefined();
  });

  it('stops with SLOT_MISSING when the slot is gone but the target holds a merged position or a finished copy', () => {
    expect(codeOf({ merged: 0x1000n })).toBe('SLOT_MISSING');
    expect(codeOf({ copies: new Map([['public.t', 0x1000n]]) })).toBe('SLOT_MISSING');
    expect(() => checkResume({ ...base, merged: 0x16b374d848n })).toThrow(/"shop" is gone.*16\/B374D848/);
  });

  it('resumes when the slot confirmed no more than the target holds of every kept table', () => {
    // Merged ahead of the slot: a crash between storing and acknowledging.
    expect(codeOf({ confirmed: 0x100n, merged: 0x200n, copies: new Map([['public.t', 0x50n]]), kept: ['public.t'] })).toBeUndefined();
    // A new slot before anything merged: confirmed = the snapshot's consistent point.
    expect(codeOf({ confirmed: 0x100n, copies: new Map([['public.t', 0x100n]]), kept: ['public.t'] })).toBeUndefined();
    // A table added later was copied after the merged position.
    expect(codeOf({ confirmed: 0x300n, merged: 0x300n, copies: new Map([['public.t', 0x50n], ['public.u', 0x400n]]), kept: ['public.t', 'public.u'] })).toBeUndefined();
    // Tables copied again at this start are not kept: nothing of theirs can be missing.
    expect(codeOf({ confirmed: 0x300n, merged: 0x200n, copies: new Map([['public.t', 0x50n]]), kept: [] })).toBeUndefined();
  });

  it('stops with TARGET_BEHIND_SOURCE naming both positions when the slot confirmed past what the target holds', () => {
    const state = { confirmed: 0x300n, merged: 0x200n, copies: new Map([['public.t', 0x50n], ['public.u', 0x400n]]), kept: ['public.t', 'public.u'] };
    expect(codeOf(state)).toBe('TARGET_BEHIND_SOURCE');
    expect(() => checkResume({ ...base, ...state })).toThrow(/holds changes up to 0\/200, but replication slot "shop" has already confirmed 0\/300.*\(public\.t\)/);
    // A finished copy whose slot moved on before anything was stored (a half-done reset).
    expect(codeOf({ confirmed: 0x300n, copies: new Map([['public.t', 0x50n]]), kept: ['public.t'] })).toBe('TARGET_BEHIND_SOURCE');
  });
});
