import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { requantize, requantizePyIta } from '../../rtl-model/ref/requant.ts';
import { satS, sraRound } from '../../rtl-model/sim/bits.ts';

/** The SystemVerilog statements of ita_requantizer.sv, transcribed literally on BigInt bit vectors. */
function requantizeSv(x: number, mult: number, shift: number, add: number): number {
  const W = 35n; // product: logic signed [EMS+WO:0]
  const mask = (w: bigint) => (1n << w) - 1n;
  const signed = (v: bigint, w: bigint) => (v & (1n << (w - 1n)) ? (v & mask(w)) - (1n << w) : v & mask(w));
  const product = signed(BigInt(mult) * BigInt(x), W);
  let shifted = signed(product >> BigInt(shift), 34n); // shifted_d: [EMS+WO-1:0]
  // product[shift-1] exists only for shift - 1 < 35; an out-of-range select reads X (no rounding).
  if (shift > 0 && shift - 1 < 35 && (product >> BigInt(shift - 1)) & 1n)
    shifted = signed((product >> BigInt(shift)) + 1n, 34n);
  const added = signed(shifted + BigInt(add), 35n); // shifted_added: [EMS+WO:0]
  const sign = (added >> 33n) & 1n;
  const mid = (added >> 7n) & mask(26n); // bits [EMS+WO-2:WI-1] = [32:7]
  if (!sign && mid !== 0n) return 127;
  if (sign && mid !== mask(26n)) return -128;
  return Number(signed(added, 8n));
}

/** Where PyITA's float formulation rounds up and the RTL down: fraction in [1/2 - 2^-23, 1/2). */
function pyItaRoundsUp(x: number, mult: number, shift: number): boolean {
  if (shift < 23) return false;
  const p = BigInt(mult) * BigInt(x);
  const m = 1n << BigInt(shift);
  const r = ((p % m) + m) % m;
  const half = m >> 1n;
  return r < half && r >= half - (m >> 23n);
}

const X_MIN = -(2 ** 25);
const X_MAX = 2 ** 25 - 1;

describe('requantize (RTL formulation)', () => {
  it('rounds half up from the last bit shifted out', () => {
    expect(requantize(5, 1, 1, 0)).toBe(3); // 2.5 -> 3
    expect(requantize(-5, 1, 1, 0)).toBe(-2); // -2.5 -> -2 (half up, not away from zero)
    expect(requantize(3, 1, 2, 0)).toBe(1); // 0.75
    expect(requantize(-3, 1, 2, 0)).toBe(-1); // -0.75
    expect(requantize(-2, 1, 2, 0)).toBe(0); // -0.5 -> 0
    expect(requantize(1, 1, 2, 0)).toBe(0); // 0.25
    expect(requantize(100, 3, 4, 0)).toBe(19); // 300 / 16 = 18.75
  });

  it('multiplies by an unsigned 8-bit factor, adds, and saturates to int8', () => {
    // util.requantize's docstring example: [[50, 100], [150, 200]] * 2 >> 1 + 1
    expect([50, 100, 150, 200].map((x) => requantize(x, 2, 1, 1))).toEqual([51, 101, 127, 127]);
    expect(requantize(1000, 1, 0, 0)).toBe(127);
    expect(requantize(-1000, 1, 0, 0)).toBe(-128);
    expect(requantize(0, 200, 3, -128)).toBe(-128);
    expect(requantize(10, 255, 0, 0)).toBe(127);
    expect(requantize(X_MAX, 255, 0, 127)).toBe(127);
    expect(requantize(X_MIN, 255, 0, -128)).toBe(-128);
    expect(requantize(X_MIN, 255, 31, 0)).toBe(-4); // -255 * 2^25 / 2^31 = -3.98 -> -4
    expect(requantize(-100, 0, 5, 7)).toBe(7);
  });

  it('has no rounding bit for shifts past the 35-bit product (right_shift_i is 8 bits wide)', () => {
    expect(requantize(-1, 1, 35, 0)).toBe(0); // product[34] is the sign bit: -1 + 1
    expect(requantize(-1, 1, 36, 0)).toBe(-1); // product[35] does not exist: stays -1
    expect(requantize(-1, 1, 255, 0)).toBe(-1);
    expect(requantize(1, 1, 255, 0)).toBe(0);
  });

  it('matches a literal transcription of ita_requantizer.sv over the whole domain (random)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: X_MIN, max: X_MAX }),
        fc.integer({ min: 0, max: 255 }),
        fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 255 })),
        fc.integer({ min: -128, max: 127 }),
        (x, m, s, a) => {
          expect(requantize(x, m, s, a)).toBe(requantizeSv(x, m, s, a));
        },
      ),
      { numRuns: 20000 },
    );
  });
});

describe('requantize vs PyITA', () => {
  it('agrees exhaustively for every mult, shift and |x| <= 128 (adds -128, -1, 0, 1, 127), except the predicted cases', () => {
    let differing = 0;
    for (let m = 0; m <= 255; m++)
      for (let s = 0; s <= 31; s++)
        for (let x = -128; x <= 128; x++)
          for (const a of [-128, -1, 0, 1, 127]) {
            const r = requantize(x, m, s, a);
            const p = requantizePyIta(x, m, s, a);
            if (r !== p) {
              differing++;
              expect(pyItaRoundsUp(x, m, s)).toBe(true);
              expect(p).toBe(r + 1);
            }
          }
    // |m x| <= 32640 < 2^22 - 1: the window [2^(s-1) - 2^(s-23), 2^(s-1)) (s >= 23) is out of reach,
    // so no case differs in this range.
    expect(differing).toBe(0);
  });

  it('agrees over the whole domain except where PyITA rounds up (random)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: X_MIN, max: X_MAX }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 31 }),
        fc.integer({ min: -128, max: 127 }),
        (x, m, s, a) => {
          const r = requantize(x, m, s, a);
          const p = requantizePyIta(x, m, s, a);
          // In the window PyITA's value is the RTL's before saturation plus one.
          if (pyItaRoundsUp(x, m, s)) expect(p).toBe(satS(sraRound(m * x, s) + a + 1, 8));
          else expect(p).toBe(r);
        },
      ),
      { numRuns: 20000 },
    );
  });

  it('differs exactly in the window below one half for shift >= 23 (the RTL rounds down there)', () => {
    for (let s = 23; s <= 31; s++) {
      const half = 2 ** (s - 1);
      const window = 2 ** (s - 23);
      // mult = 1: x = half - 1 (fraction 1/2 - 2^-s) is inside the window, x = half - window - 1 below it.
      expect(requantize(half - 1, 1, s, 0)).toBe(0);
      expect(requantizePyIta(half - 1, 1, s, 0)).toBe(1);
      expect(requantizePyIta(half - window, 1, s, 0)).toBe(1);
      expect(requantizePyIta(half - window - 1, 1, s, 0)).toBe(0);
      expect(requantize(half, 1, s, 0)).toBe(1);
      expect(requantizePyIta(half, 1, s, 0)).toBe(1);
      // negative side: -half - 1 has fraction 1/2 - 2^-s as well
      expect(requantize(-half - 1, 1, s, 0)).toBe(-1);
      expect(requantizePyIta(-half - 1, 1, s, 0)).toBe(0);
    }
    // below shift 23 the window is empty
    for (let s = 1; s < 23; s++)
      expect(requantizePyIta(2 ** (s - 1) - 1, 1, s, 0)).toBe(requantize(2 ** (s - 1) - 1, 1, s, 0));
  });

  it('agrees for every 26-bit x except exactly the predicted ones (mult 255, shift 31)', () => {
    const [m, sh] = [255, 31];
    let differing = 0;
    let predicted = 0;
    const mod = 2 ** sh;
    for (let x = X_MIN; x <= X_MAX; x++) {
      const r = requantize(x, m, sh, 0);
      const p = requantizePyIta(x, m, sh, 0);
      // the window in plain numbers: (m x) mod 2^sh in [2^(sh-1) - 2^(sh-23), 2^(sh-1));
      // |m x| / 2^31 < 4, so no value saturates
      const res = (((m * x) % mod) + mod) % mod;
      const inWindow = res < mod / 2 && res >= mod / 2 - 2 ** (sh - 23);
      if (inWindow) predicted++;
      if (r !== p) {
        differing++;
        expect(inWindow).toBe(true);
        expect(p).toBe(r + 1);
      }
    }
    expect(differing).toBe(predicted);
    expect(differing).toBeGreaterThan(0);
  });
});
