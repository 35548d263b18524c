import { describe, expect, it } from 'vitest';
import { productsSimd } from '../../rtl-model/ref/simd.ts';

/** Sums of products in wrapping int32 arithmetic, X rows x inner, Wt cols x inner. */
function plain(x: Int32Array, wT: Int32Array, rows: number, inner: number, cols: number, unsignedX: boolean) {
  const out = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      let a = 0;
      for (let k = 0; k < inner; k++) {
        const xv = unsignedX ? x[r * inner + k]! & 0xff : x[r * inner + k]!;
        a = (a + xv * wT[c * inner + k]!) | 0;
      }
      out[r * cols + c] = a;
    }
  return out;
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
      it(`matches the plain int32 sums for ${rows} x ${inner} x ${cols}${unsignedX ? ', uint8 X' : ''}`, () => {
        const x = unsignedX ? values(rows * inner, 0, 255, rows) : values(rows * inner, -128, 127, rows);
        const w = values(cols * inner, -128, 127, cols + 7);
        const out = new Int32Array(rows * cols);
        expect(productsSimd(x, w, rows, inner, cols, out, unsignedX)).toBe(true);
        expect(out).toEqual(plain(x, w, rows, inner, cols, unsignedX));
      });

  it('handles the extreme products (-128 * -128 over 512 terms, 255 * -128)', () => {
    const inner = 512;
    const w = new Int32Array(4 * inner).fill(-128);
    const out = new Int32Array(4);
    expect(productsSimd(new Int32Array(inner).fill(-128), w, 1, inner, 4, out, false)).toBe(true);
    expect([...out]).toEqual([512 * 16384, 512 * 16384, 512 * 16384, 512 * 16384]);
    expect(productsSimd(new Int32Array(inner).fill(255), w, 1, inner, 4, out, true)).toBe(true);
    expect([...out]).toEqual(new Array(4).fill(-512 * 255 * 128));
  });

  it('declines operands outside 8 bits and shapes it does not tile', () => {
    const out = new Int32Array(16);
    expect(
      productsSimd(Int32Array.of(300, 0, 0, 0, 0, 0, 0, 0), new Int32Array(32), 1, 8, 4, out, false),
    ).toBe(false);
    expect(productsSimd(Int32Array.of(-1, 0, 0, 0, 0, 0, 0, 0), new Int32Array(32), 1, 8, 4, out, true)).toBe(
      false,
    );
    expect(
      productsSimd(new Int32Array(8), Int32Array.of(128, ...new Array(31).fill(0)), 1, 8, 4, out, false),
    ).toBe(false);
    expect(productsSimd(new Int32Array(12), new Int32Array(48), 1, 12, 4, out, false)).toBe(false);
    expect(productsSimd(new Int32Array(8), new Int32Array(24), 1, 8, 3, out, false)).toBe(false);
    expect([...out]).toEqual(new Array(16).fill(0));
  });
});
