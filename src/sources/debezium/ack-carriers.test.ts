import { describe, expect, it } from 'vitest';
import { AckCarriers } from './ack-carriers.js';

describe('AckCarriers', () => {
  it('keeps every carrier below capacity and acknowledges exactly', () => {
    const c = new AckCarriers(8);
    for (let s = 1; s <= 5; s++) c.add(s, `r${s}`);
    expect(c.take(3)).toEqual({ sequence: 3, reply: 'r3' });
    expect(c.size).toBe(2);
    expect(c.take(3)).toBeUndefined();
    expect(c.take(100)).toEqual({ sequence: 5, reply: 'r5' });
    expect(c.size).toBe(0);
  });

  it('stays within capacity however many messages are fetched, keeping the newest', () => {
    const c = new AckCarriers(16);
    for (let s = 1; s <= 100_000; s++) {
      c.add(s, `r${s}`);
      expect(c.size).toBeLessThanOrEqual(16);
    }
    expect(c.size).toBeGreaterThanOrEqual(8);
    // A merged sequence between carriers is acknowledged up to the carrier below it, never above.
    const mid = c.take(60_000)!;
    expect(mid.sequence).toBeLessThanOrEqual(60_000);
    expect(mid.sequence).toBeGreaterThan(45_000); // carriers are at most about 2 × 100 000 / 16 apart
    expect(c.take(100_000)).toEqual({ sequence: 100_000, reply: 'r100000' });
  });

  it('refuses a capacity below 2', () => {
    expect(() => new AckCarriers(1)).toThrow(/at least 2/);
  });
});
