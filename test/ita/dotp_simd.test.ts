/**
 * The vector kernel of `ita_sumdotp` (dotp_simd.ts) against plain sums: both sign modes of the
 * input row, the row read in place from the kernel's row buffers or copied in from elsewhere, and
 * shapes from the smallest to one with more locals than a one-byte index can name.
 */
import { describe, expect, it } from 'vitest';
import { createDotpSimd } from '../../rtl-model/ita/dotp_simd.ts';

/** A deterministic stream of bytes. */
function bytes(n: number, seed: number): Int8Array {
  let s = seed >>> 0;
  return Int8Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 24) - 128;
  });
}

/** The N sums of row `x` (bytes read unsigned when `signed` is 0) against the weight rows `w`. */
function plain(x: Int8Array, w: Int8Array, N: number, M: number, signed: number): Int32Array {
  const out = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let a = 0;
    for (let m = 0; m < M; m++) a += (signed ? x[m]! : x[m]! & 0xff) * w[n * M + m]!;
    out[n] = a;
  }
  return out;
}

describe('ita_sumdotp vector kernel', () => {
  const shapes: [number, number][] = [
    [8, 8],
    [16, 64],
    [8, 1024],
  ];
  it.each(shapes)('matches plain sums for N=%i, M=%i', (N, M) => {
    const k = createDotpSimd(N, M)!;
    expect(k).not.toBe(null);
    k.w.set(bytes(N * M, N + M));
    const x = bytes(M, 7 * M);
    for (const signed of [0, 1]) {
      const want = plain(x, k.w, N, M, signed);
      k.run(x, signed);
      expect(k.out).toEqual(want);
      for (const row of k.rows) {
        k.out.fill(0);
        row.set(x);
        k.run(row, signed);
        expect(k.out).toEqual(want);
      }
    }
  });

  it('gives each evaluator its own memory', () => {
    const a = createDotpSimd(8, 64)!;
    const b = createDotpSimd(8, 64)!;
    a.w.fill(1);
    b.w.fill(2);
    const x = new Int8Array(64).fill(1);
    a.run(x, 1);
    b.run(x, 1);
    expect([a.out[0], b.out[0]]).toEqual([64, 128]);
  });

  it('declines rows that are not whole 8-byte chunks', () => {
    expect(createDotpSimd(8, 12)).toBe(null);
  });
});
