import { describe, expect, it } from 'vitest';
import { headSumSimd, mapInt8, matmulSimd } from '../../rtl-model/ref/simd.ts';
import { requantize } from '../../rtl-model/ref/requant.ts';

/**
 * X Wt^T in plain int32 arithmetic (X rows x inner, Wt cols x inner), plus the bias
 * sign-extended from 24 bits, wrapped to 26 bits, then optionally requantised.
 */
function plain(
  x: Int32Array,
  wT: Int32Array,
  rows: number,
  inner: number,
  cols: number,
  unsignedX: boolean,
  bias?: Int32Array,
  rq?: { mult: number; shift: number; add: number },
) {
  const out = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      let a = 0;
      for (let k = 0; k < inner; k++) {
        const xv = unsignedX ? x[r * inner + k]! & 0xff : x[r * inner + k]!;
        a = (a + xv * wT[c * inner + k]!) | 0;
      }
      if (bias) a = (a + ((bias[c]! << 8) >> 8)) | 0;
      a = (a << 6) >> 6;
      out[r * cols + c] = rq ? requantize(a, rq.mult, rq.shift, rq.add) : a;
    }
  return out;
}

function transpose(m: Int32Array, rows: number, cols: number): Int32Array {
  const t = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c]!;
  return t;
}

/** A deterministic stream of values lo..hi. */
function values(n: number, lo: number, hi: number, seed: number): Int32Array {
  let s = seed >>> 0;
  return Int32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s % (hi - lo + 1));
  });
}

describe('WebAssembly SIMD matmul kernel', () => {
  const shapes: [number, number, number][] = [
    [1, 8, 4],
    [5, 24, 20],
    [64, 64, 64],
    [7, 512, 12],
    [128, 256, 64],
  ];
  for (const [rows, inner, cols] of shapes)
    for (const unsignedX of [false, true])
      it(`matches plain int32 arithmetic for ${rows} x ${inner} x ${cols}${unsignedX ? ', uint8 X' : ''}`, () => {
        const x = unsignedX ? values(rows * inner, 0, 255, rows) : values(rows * inner, -128, 127, rows);
        const wT = values(cols * inner, -128, 127, cols + 7);
        const bias = values(cols, -(2 ** 23), 2 ** 23 - 1, inner);
        const w = transpose(wT, cols, inner);
        expect(matmulSimd(x, wT, true, rows, inner, cols, undefined, unsignedX)).toEqual(
          plain(x, wT, rows, inner, cols, unsignedX),
        );
        expect(matmulSimd(x, w, false, rows, inner, cols, bias, unsignedX)).toEqual(
          plain(x, wT, rows, inner, cols, unsignedX, bias),
        );
        for (const rq of [
          { mult: 97, shift: 14, add: 0 },
          { mult: 255, shift: 1, add: -128 },
          { mult: 255, shift: 1, add: 127 },
          { mult: 64, shift: 35, add: 127 },
        ])
          expect(matmulSimd(x, w, false, rows, inner, cols, bias, unsignedX, rq)).toEqual(
            plain(x, wT, rows, inner, cols, unsignedX, bias, rq),
          );
      });

  it('handles the extreme products (-128 * -128 over 512 terms, 255 * -128) and 24-bit biases', () => {
    const inner = 512;
    const w = new Int32Array(4 * inner).fill(-128);
    const ones = (v: number) => new Int32Array(inner).fill(v);
    expect([...matmulSimd(ones(-128), w, true, 1, inner, 4, undefined, false)!]).toEqual(
      new Array(4).fill(512 * 16384),
    );
    expect([...matmulSimd(ones(255), w, true, 1, inner, 4, undefined, true)!]).toEqual(
      new Array(4).fill(-512 * 255 * 128),
    );
    // The bias port reads 24 bits: 2^23 - 1 adds as it is, 2^23 as -2^23, 2^24 + 5 as 5.
    const bias = Int32Array.of(2 ** 23 - 1, 2 ** 23, 2 ** 24 + 5, -1);
    expect([...matmulSimd(ones(-128), w, true, 1, inner, 4, bias, false)!]).toEqual([
      2 ** 24 - 1,
      0,
      2 ** 23 + 5,
      2 ** 23 - 1,
    ]);
  });

  it('saturates requantised values far beyond int32 (shift 1, mult 255, full-range sums)', () => {
    const inner = 512;
    const x = new Int32Array(inner).fill(-128);
    const wT = new Int32Array(4 * inner).fill(-128);
    wT.fill(127, 2 * inner);
    const bias = Int32Array.of(2 ** 23 - 1, -(2 ** 23), 2 ** 23 - 1, -(2 ** 23));
    const rq = { mult: 255, shift: 1, add: 0 };
    expect(matmulSimd(x, wT, true, 1, inner, 4, bias, false, rq)).toEqual(
      plain(x, wT, 1, inner, 4, false, bias, rq),
    );
  });

  it('declines operands outside 8 bits, shifts outside 1..35 and shapes it does not tile', () => {
    expect(
      matmulSimd(
        Int32Array.of(300, 0, 0, 0, 0, 0, 0, 0),
        new Int32Array(32),
        true,
        1,
        8,
        4,
        undefined,
        false,
      ),
    ).toBe(null);
    expect(
      matmulSimd(Int32Array.of(-1, 0, 0, 0, 0, 0, 0, 0), new Int32Array(32), true, 1, 8, 4, undefined, true),
    ).toBe(null);
    const w = new Int32Array(32);
    w[31] = 128;
    expect(matmulSimd(new Int32Array(8), w, true, 1, 8, 4, undefined, false)).toBe(null);
    expect(matmulSimd(new Int32Array(8), w, false, 1, 8, 4, undefined, false)).toBe(null);
    expect(matmulSimd(new Int32Array(12), new Int32Array(48), true, 1, 12, 4, undefined, false)).toBe(null);
    expect(matmulSimd(new Int32Array(8), new Int32Array(24), true, 1, 8, 3, undefined, false)).toBe(null);
    const rq = { mult: 1, shift: 0, add: 0 };
    expect(matmulSimd(new Int32Array(8), new Int32Array(32), true, 1, 8, 4, undefined, false, rq)).toBe(null);
  });
});

describe('WebAssembly int8 table lookup', () => {
  it('maps every int8 value through the table, in place too, and declines wider values', () => {
    const table = Int32Array.from({ length: 256 }, (_, i) => ((i * 37) % 251) - 100);
    const values = Int32Array.from({ length: 1000 }, (_, i) => ((i * 97) % 256) - 128);
    const out = new Int32Array(values.length);
    expect(mapInt8(values, table, out)).toBe(true);
    expect(out).toEqual(values.map((v) => table[v + 128]!));
    const inPlace = values.slice();
    expect(mapInt8(inPlace, table, inPlace)).toBe(true);
    expect(inPlace).toEqual(out);
    const wide = Int32Array.of(0, 5, 128);
    const untouched = new Int32Array(3).fill(7);
    expect(mapInt8(wide, table, untouched)).toBe(false);
    expect([...untouched]).toEqual([7, 7, 7]);
    expect(mapInt8(Int32Array.of(-129), table, new Int32Array(1))).toBe(false);
  });
});

describe('WebAssembly head sum', () => {
  it('sums the heads and requantises as requantize does, without the 26-bit wrap', () => {
    const n = 300;
    for (const heads of [1, 3, 8]) {
      const all = values(heads * n, -(2 ** 24), 2 ** 24, heads);
      for (const rq of [
        { mult: 100, shift: 9, add: 3 },
        { mult: 255, shift: 1, add: -128 },
      ]) {
        const want = Int32Array.from({ length: n }, (_, i) => {
          let sum = 0;
          for (let h = 0; h < heads; h++) sum = (sum + all[h * n + i]!) | 0;
          return requantize(sum, rq.mult, rq.shift, rq.add);
        });
        expect(headSumSimd(all, heads, n, rq)).toEqual(want);
      }
    }
    expect(headSumSimd(new Int32Array(4), 1, 4, { mult: 1, shift: 0, add: 0 })).toBe(null);
  });
});
