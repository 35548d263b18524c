import { describe, expect, it } from 'vitest';
import { linear, matmulAcc, WO } from '../../rtl-model/ref/ita.ts';

/** Exact (unbounded) X W + b, and PyITA's version of it: clipped to the 26-bit range. */
function exact(
  x: Int32Array,
  w: Int32Array,
  rows: number,
  inner: number,
  cols: number,
  bias?: Int32Array,
): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      let s = bias ? bias[c]! : 0;
      for (let k = 0; k < inner; k++) s += x[r * inner + k]! * w[k * cols + c]!;
      out.push(s);
    }
  return out;
}
const clip26 = (v: number) => Math.min(2 ** (WO - 1) - 1, Math.max(-(2 ** (WO - 1)), v));

describe('matmul steps', () => {
  it('computes a small Linear layer by hand', () => {
    // X = [[1, 2], [-3, 4]], W = [[5, -6], [7, 8]], b = [100, -100]
    const acc = matmulAcc(
      Int32Array.of(1, 2, -3, 4),
      Int32Array.of(5, -6, 7, 8),
      2,
      2,
      2,
      Int32Array.of(100, -100),
    );
    expect(Array.from(acc)).toEqual([1 * 5 + 2 * 7 + 100, -6 + 16 - 100, -15 + 28 + 100, 18 + 32 - 100]);
    // requantised by 3 >> 2: 119 * 3 / 4 = 89.25 -> 89, -90 * 3 / 4 = -67.5 -> -67, 113 * 3 / 4 = 84.75 -> 85, -50 * 3 / 4 = -37.5 -> -37
    const y = linear(
      Int32Array.of(1, 2, -3, 4),
      Int32Array.of(5, -6, 7, 8),
      Int32Array.of(100, -100),
      2,
      2,
      2,
      { mult: 3, shift: 2, add: 0 },
    );
    expect(Array.from(y)).toEqual([89, -67, 85, -37]);
  });

  it('reads the softmax operand unsigned in the AV step', () => {
    const a = Int32Array.of(255, 128); // uint8 values; the same bits as int8 would be -1, -128
    const v = Int32Array.of(2, -3);
    expect(Array.from(matmulAcc(a, v, 1, 2, 1, undefined, true))).toEqual([255 * 2 + 128 * -3]);
    expect(Array.from(matmulAcc(Int32Array.of(-1, -128), v, 1, 2, 1, undefined, true))).toEqual([
      255 * 2 + 128 * -3,
    ]);
  });

  it('wraps (RTL) where PyITA clips only beyond the allowed sizes: at 512 both agree on the extremes', () => {
    const cases: [string, number, number, number, boolean][] = [
      // name, x value, w value, bias value, x unsigned
      ['projection / OW / F1 / F2, max positive', -128, -128, 2 ** 23 - 1, false],
      ['projection / OW / F1 / F2, max negative', -128, 127, -(2 ** 23), false],
      ['QK, max positive', -128, -128, 0, false],
      ['AV, A unsigned, max negative', 255, -128, 0, true],
      ['AV, A unsigned, max positive', 255, 127, 0, true],
    ];
    for (const [, xv, wv, bv, unsigned] of cases) {
      const inner = 512;
      const x = new Int32Array(inner).fill(xv);
      const w = new Int32Array(inner).fill(wv);
      const b = Int32Array.of(bv);
      const got = matmulAcc(x, w, 1, inner, 1, b, unsigned)[0]!;
      const want = exact(x, w, 1, inner, 1, b)[0]!;
      expect(Math.abs(want)).toBeLessThan(2 ** (WO - 1));
      expect(got).toBe(want);
      expect(got).toBe(clip26(want)); // PyITA's clipped value
    }
  });

  it('wraps modulo 2^26 like the RTL accumulator when a sum leaves 26 bits', () => {
    const inner = 4096; // beyond ITA's limit of 512
    const x = new Int32Array(inner).fill(-128);
    const w = new Int32Array(inner).fill(-128);
    const want = exact(x, w, 1, inner, 1)[0]!; // 2^26: one past the range
    expect(want).toBe(2 ** 26);
    expect(matmulAcc(x, w, 1, inner, 1)[0]).toBe(0); // wraps
    expect(clip26(want)).toBe(2 ** 25 - 1); // PyITA would clip
  });

  it('agrees with the exact sum on random data at the largest size', () => {
    let seed = 7;
    const rnd = () => (((seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 8) % 256) - 128;
    const [rows, inner, cols] = [4, 512, 8];
    const x = Int32Array.from({ length: rows * inner }, rnd);
    const w = Int32Array.from({ length: inner * cols }, rnd);
    const b = Int32Array.from({ length: cols }, () => rnd() * 65536);
    expect(Array.from(matmulAcc(x, w, rows, inner, cols, b))).toEqual(
      exact(x, w, rows, inner, cols, b).map(clip26),
    );
  });
});

describe('Linear layer with activation', () => {
  it('applies the activation unit after the requantiser', () => {
    const g = { one: -7091, b: -80, c: -7091, rqsMul: 3, rqsShift: 1, rqsAdd: 0 };
    // X W = [-4, 6]; rq 1 >> 0: [-4, 6]; ReLU then 3 >> 1: [0, 9]
    const x = Int32Array.of(1, 2);
    const w = Int32Array.of(-4, 2, 0, 2);
    const rq = { mult: 1, shift: 0, add: 0 };
    expect(Array.from(linear(x, w, undefined, 1, 2, 2, rq))).toEqual([-4, 6]);
    expect(Array.from(linear(x, w, undefined, 1, 2, 2, rq, { activation: 'relu', gelu: g }))).toEqual([0, 9]);
    expect(Array.from(linear(x, w, undefined, 1, 2, 2, rq, { activation: 'identity', gelu: g }))).toEqual([
      -4, 6,
    ]);
  });
});
