import { describe, expect, it } from 'vitest';
import { OpContext } from '../../onnx/ops/context.ts';
import { matmulInt } from '../../onnx/ops/linear.ts';
import { matmulsSimd } from '../../onnx/ops/matmul-simd.ts';
import type { Tensor } from '../../onnx/tensor.ts';

const ctx = new OpContext(
  { name: 'mm', opType: 'MatMul', domain: '', inputs: [], outputs: [], attrs: new Map() },
  [],
  { softmax: 'deeploy' },
);

/** A deterministic tensor of values lo..hi. */
function tensor(shape: number[], lo: number, hi: number, seed: number): Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((x, y) => x * y, 1);
  const data = Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s % (hi - lo + 1));
  });
  return { shape, data, signed: lo < 0 };
}

/** The product both ways: the kernel's (where it applies) and the JavaScript loop's. */
function both(a: Tensor, b: Tensor, transA = false, transB = false) {
  const fast = matmulInt(ctx, a, b, transA, transB);
  const js = matmulInt(ctx, a, b, transA, transB, true);
  return { fast, js };
}

/** A whole tensor as one operand of `matmulsSimd`, read with these strides. */
const op = (t: Tensor, rowStride: number, innerStride: number) => ({
  data: t.data,
  offset: 0,
  rowStride,
  innerStride,
});

describe('the executor matmul on the SIMD kernel', () => {
  const cases: { a: number[]; b: number[]; tA?: boolean; tB?: boolean }[] = [
    { a: [1, 1], b: [1, 1] },
    { a: [3, 5], b: [5, 7] },
    { a: [64, 128], b: [128, 64] },
    { a: [1, 128, 512], b: [512, 128] },
    { a: [2, 3, 9, 13], b: [3, 13, 6] },
    { a: [4, 17, 9], b: [1, 9, 11] },
    { a: [9, 5], b: [9, 7], tA: true },
    { a: [5, 9], b: [7, 9], tB: true },
    { a: [2, 9, 5], b: [2, 7, 9], tA: true, tB: true },
  ];
  for (const { a, b, tA, tB } of cases)
    for (const [lo, hi] of [
      [-128, 127],
      [0, 255],
    ] as const)
      it(`equals the JavaScript loop for [${a}] x [${b}]${tA ? ' A^T' : ''}${tB ? ' B^T' : ''}, values ${lo}..${hi}`, () => {
        const { fast, js } = both(tensor(a, lo, hi, a.length), tensor(b, -128, 127, 7), tA, tB);
        expect(fast.shape).toEqual(js.shape);
        expect(Array.from(fast.data)).toEqual(Array.from(js.data));
      });

  it('applies to int8 operands (the kernel, not the fallback, computes them)', () => {
    const a = tensor([8, 24], -128, 127, 1);
    const b = tensor([24, 12], -128, 127, 2);
    const out = new Float64Array(8 * 12);
    expect(matmulsSimd([{ a: op(a, 24, 1), b: op(b, 1, 12) }], 8, 24, 12, out)).toBe(true);
    expect(Array.from(out)).toEqual(Array.from(matmulInt(ctx, a, b, false, false, true).data));
  });

  it('wraps like int32 arithmetic: 16-bit extremes whose sums pass 2^31', () => {
    // every product is 2^30 (-32768 squared): the pairs the kernel adds wrap to -2^31 and the
    // sums of 4096 terms to 0 modulo 2^32; mixed signs and 32767 give other residues
    const a = tensor([3, 4096], -32768, -32768, 0);
    a.data[5] = 32767;
    a.data[4096 + 1] = -1;
    const b = tensor([4096, 5], -32768, -32768, 0);
    b.data[7] = 32767;
    const { fast, js } = both(a, b);
    expect(Array.from(fast.data)).toEqual(Array.from(js.data));
    expect(js.data[2 * 5]).toBe(0); // row 2, column 0: 4096 terms of 2^30
    expect(js.data.some((v) => v !== 0)).toBe(true);
  });

  it('falls back to the JavaScript loop for values beyond 16 bits, with the same int32 wrap', () => {
    const a = tensor([4, 33], -(2 ** 31), 2 ** 31 - 1, 3);
    const b = tensor([33, 6], -40000, 40000, 4);
    const { fast, js } = both(a, b);
    expect(Array.from(fast.data)).toEqual(Array.from(js.data));
    // int32 values beyond 16 bits: the kernel refuses them
    const out = new Float64Array(4 * 6);
    expect(matmulsSimd([{ a: op(a, 33, 1), b: op(b, 1, 6) }], 4, 33, 6, out)).toBe(false);
  });

  it('reads a value past 16 bits in any batch element as a reason to fall back', () => {
    const a = tensor([3, 4, 8], -128, 127, 5);
    a.data[3 * 4 * 8 - 1] = 70000;
    const b = tensor([8, 4], -128, 127, 6);
    const { fast, js } = both(a, b);
    expect(Array.from(fast.data)).toEqual(Array.from(js.data));
  });
});
