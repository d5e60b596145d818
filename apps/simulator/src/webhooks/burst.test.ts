import { describe, expect, it } from 'vitest';
import { Rng } from '../random.js';
import { arrangeBurst, sha256, type PlannedDelivery } from './burst.js';

const plan = (n: number): PlannedDelivery[] =>
  Array.from({ length: n }, (_, seq) => ({
    seq,
    event: 'NEW_TAG' as const,
    body: `{"n":${seq}}`,
    bodySha256: sha256(`{"n":${seq}}`),
  }));

describe('arrangeBurst', () => {
  it('adds exactly round(count × ratio) byte-identical duplicates after their originals', () => {
    const out = arrangeBurst(plan(100), new Rng('d'), { duplicates: 0.1 });
    expect(out).toHaveLength(110);
    const dups = out.filter((d) => d.duplicateOf !== undefined);
    expect(dups).toHaveLength(10);
    for (const d of dups) {
      const original = out.find((o) => o.seq === d.duplicateOf) as PlannedDelivery;
      expect(d.body).toBe(original.body);
      expect(out.indexOf(d)).toBeGreaterThan(out.indexOf(original));
    }
  });

  it('shuffles only within windows', () => {
    const out = arrangeBurst(plan(60), new Rng('r'), { reorder: 10 });
    expect(out.map((d) => d.seq)).not.toEqual(plan(60).map((d) => d.seq));
    out.forEach((d, i) => expect(Math.floor(d.seq / 10)).toBe(Math.floor(i / 10)));
  });

  it('rejects a ratio outside 0..1', () => {
    expect(() => arrangeBurst(plan(3), new Rng('x'), { duplicates: 1.5 })).toThrow(/ratio/);
  });
});
