import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROPERTIES, toFcProperty } from '../../fuzz/properties.ts';
import { itaMaxRowOracle, requantOracle } from '../../fuzz/oracles.ts';

// A fixed seed keeps the suite deterministic; `itasim fuzz` explores with fresh seeds at scale.
const SEED = 20241124;

describe('fuzz properties (bounded runs)', () => {
  for (const p of PROPERTIES) {
    it(`${p.name}: ${p.description}`, () => {
      fc.assert(toFcProperty(p), { seed: SEED, numRuns: 150 });
    });
  }
});

describe('oracles, hand-checked', () => {
  it('requantiser rounds half up, adds, saturates', () => {
    expect(requantOracle(3, 1, 1, 0)).toBe(2); // 1.5 -> 2
    expect(requantOracle(-3, 1, 1, 0)).toBe(-1); // -1.5 -> -1
    expect(requantOracle(1000, 100, 10, 5)).toBe(103); // 97.66 -> 98, + 5
    expect(requantOracle(2 ** 25 - 1, 255, 0, 0)).toBe(127);
    expect(requantOracle(-(2 ** 25), 255, 0, 0)).toBe(-128);
    // shifts past the product's width: no rounding bit exists, the sign remains
    expect(requantOracle(-5, 1, 40, 0)).toBe(-1);
    expect(requantOracle(5, 1, 40, 0)).toBe(0);
  });
  it('ITAMax of a constant group and of a one-hot row', () => {
    expect(itaMaxRowOracle(Array(16).fill(0))).toEqual(Array(16).fill(15));
    const row = Array(16).fill(-128);
    row[3] = 127;
    // sum = 256 (others shifted out), inverse = 255, others 255 >> 255 = 0
    expect(itaMaxRowOracle(row)).toEqual(row.map((v) => (v === 127 ? 255 : 0)));
  });
});
