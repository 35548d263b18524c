/**
 * Integer linear algebra as Deeploy's Generic kernels compute it: int32 accumulators that wrap
 * like C's, exact alpha/beta, broadcasting as numpy (and so ONNX) defines it.
 */
import { sra, wrapS } from '../../rtl-model/sim/bits.ts';
import type { Tensor } from '../tensor.ts';
import { broadcastBinary, broadcastIndex, broadcastShapes, mapValues, sizeOf, shapeStr } from '../tensor.ts';
import type { OpContext, OpDef } from './context.ts';
import { matmulsSimd } from './matmul-simd.ts';

/** The C int32 product (Math.imul wraps exactly like a 32-bit multiplier). */
const mul32 = Math.imul;

/** A matrix product's operands and shapes, as `matmulInt` reads them. */
interface Product {
  a: Tensor;
  b: Tensor;
  /** One output block per batch element: the batch index of A and of B (broadcast). */
  ia: Int32Array;
  ib: Int32Array;
  M: number;
  N: number;
  O: number;
  transA: boolean;
  transB: boolean;
}

function productOf(
  ctx: OpContext,
  a: Tensor,
  b: Tensor,
  transA: boolean,
  transB: boolean,
): Product & { batch: number[] } {
  if (a.shape.length < 2 || b.shape.length < 2) {
    // ONNX MatMul promotes 1-D operands; not needed by the dialect, refused to stay exact
    ctx.refuse(`1-D operands ${shapeStr(a.shape)} x ${shapeStr(b.shape)} are not supported`);
  }
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = transA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const N = transA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const Nb = transB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const O = transB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (N !== Nb) ctx.refuse(`inner dimensions differ: ${shapeStr(a.shape)} x ${shapeStr(b.shape)}`);
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcastShapes(batchA, batchB);
  if (!batch) ctx.refuse(`batch dimensions do not broadcast: ${shapeStr(a.shape)} x ${shapeStr(b.shape)}`);
  const ia = broadcastIndex(batchA, batch);
  const ib = broadcastIndex(batchB, batch);
  return { a, b, ia, ib, M, N, O, transA, transB, batch };
}

/** The product in JavaScript: int32 accumulators, every product and sum wrapping like C's. */
function productJs(p: Product, out: Float64Array): void {
  const { a, b, ia, ib, M, N, O } = p;
  const sAm = p.transA ? 1 : N;
  const sAn = p.transA ? M : 1;
  const sBn = p.transB ? 1 : O;
  const sBo = p.transB ? N : 1;
  const acc = new Int32Array(O);
  for (let bi = 0; bi < ia.length; bi++) {
    const offA = ia[bi]! * M * N;
    const offB = ib[bi]! * N * O;
    const offY = bi * M * O;
    // row by row, the products of one A element with a row of B added to a row of int32
    // accumulators (sums mod 2^32 do not depend on the order of the terms)
    for (let m = 0; m < M; m++) {
      acc.fill(0);
      for (let n = 0; n < N; n++) {
        const x = a.data[offA + m * sAm + n * sAn]!;
        if (x === 0) continue;
        const rowB = offB + n * sBn;
        for (let o = 0; o < O; o++) acc[o] = acc[o]! + mul32(x, b.data[rowB + o * sBo]!);
      }
      for (let o = 0; o < O; o++) out[offY + m * O + o] = acc[o]!;
    }
  }
}

/** The product on the WebAssembly SIMD kernel; false when it does not apply (values beyond 16 bits). */
function productSimd(p: Product, out: Float64Array): boolean {
  const { a, b, M, N, O } = p;
  const products = Array.from(p.ia, (ai, bi) => ({
    a: { data: a.data, offset: ai * M * N, rowStride: p.transA ? 1 : N, innerStride: p.transA ? M : 1 },
    b: {
      data: b.data,
      offset: p.ib[bi]! * N * O,
      rowStride: p.transB ? N : 1,
      innerStride: p.transB ? 1 : O,
    },
  }));
  return matmulsSimd(products, M, N, O, out);
}

/**
 * Batched A(...,M,N) x B(...,N,O) with int32 wrap-around accumulation: on the SIMD kernel when
 * every value fits 16 bits, else (or with `js`) in JavaScript; both give the same values.
 */
export function matmulInt(
  ctx: OpContext,
  a: Tensor,
  b: Tensor,
  transA = false,
  transB = false,
  js = false,
): Tensor {
  const p = productOf(ctx, a, b, transA, transB);
  const out = new Float64Array(sizeOf(p.batch) * p.M * p.O);
  if (js || !productSimd(p, out)) productJs(p, out);
  return { shape: [...p.batch, p.M, p.O], data: out, signed: true };
}

const MatMul: OpDef = {
  attrs: [],
  run: (ctx) => [matmulInt(ctx, ctx.input(0, 'A'), ctx.input(1, 'B'))],
};

const Gemm: OpDef = {
  attrs: ['alpha', 'beta', 'transA', 'transB'],
  run(ctx) {
    const alpha = ctx.int('alpha', 1);
    const beta = ctx.int('beta', 1);
    const y = matmulInt(
      ctx,
      ctx.input(0, 'A'),
      ctx.input(1, 'B'),
      ctx.int('transA', 0) !== 0,
      ctx.int('transB', 0) !== 0,
    );
    const c = ctx.optionalInput(2);
    if (!c) {
      for (let i = 0; i < y.data.length; i++) y.data[i] = mul32(alpha, y.data[i]!);
      return [y];
    }
    const r = broadcastBinary(y, c, (s, cv) => (mul32(alpha, s) + mul32(beta, cv)) | 0, true);
    if (!r || r.shape.length !== y.shape.length || r.data.length !== y.data.length) {
      return ctx.refuse(`C ${shapeStr(c.shape)} does not broadcast to the product ${shapeStr(y.shape)}`);
    }
    return [r];
  },
};

function elementwise(f: (x: number, y: number) => number, signed?: boolean): OpDef {
  return {
    attrs: [],
    run(ctx) {
      const a = ctx.input(0, 'A');
      const b = ctx.input(1, 'B');
      const r = broadcastBinary(a, b, f, signed ?? (a.signed || b.signed));
      if (!r) return ctx.refuse(`shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} do not broadcast`);
      return [r];
    },
  };
}

/** Deeploy's IntegerDiv: round-half-away-from-zero of (Delta*eta*a) / (eta*b + eps), int64 inside. */
const IntegerDiv: OpDef = {
  attrs: ['Delta', 'eps', 'eta'],
  run(ctx) {
    const delta = ctx.int('Delta');
    const eps = ctx.int('eps');
    const eta = ctx.int('eta');
    const dEta = BigInt(mul32(delta, eta));
    const a = ctx.input(0, 'numerator');
    const b = ctx.input(1, 'denominator');
    const r = broadcastBinary(
      a,
      b,
      (x, y) => {
        const nom = dEta * BigInt(x);
        const den = BigInt(eta) * BigInt(y) + BigInt(eps);
        if (den === 0n) ctx.refuse('division by zero');
        const half = den >> 1n;
        const q = (nom + (nom >= 0n ? half : -half)) / den;
        return Number(BigInt.asIntN(32, q));
      },
      true,
    );
    if (!r) return ctx.refuse(`shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} do not broadcast`);
    return [r];
  },
};

/**
 * IntegerDiv fused with a requantisation (Deeploy's RQIntegerDiv): inputs numerator, denominator,
 * mul, add and the shift (log2 of the original div); clip((q*mul + add + 2^(shift-1)) >> shift)
 * to int8.
 */
const RQIntegerDiv: OpDef = {
  attrs: ['Delta', 'eps', 'eta', 'div', 'n_levels', 'n_levels_out', 'signed'],
  run(ctx) {
    const [q] = IntegerDiv.run(ctx);
    const mul = ctx.inputScalar(2, 'requant_mul');
    const add = ctx.inputScalar(3, 'requant_add');
    const shift = ctx.inputScalar(4, 'requant_div');
    if (shift < 1 || shift > 31) ctx.refuse(`the shift input must be from 1 to 31, got ${shift}`);
    const out = mapValues(q!.data, (v) => {
      const r = sra((mul32(v, mul) + add + 2 ** (shift - 1)) | 0, shift);
      return r < -128 ? -128 : r > 127 ? 127 : r;
    });
    return [{ shape: q!.shape, data: out, signed: true }];
  },
};

/** Spatial geometry shared by Conv and MaxPool (1-D or 2-D, NCHW). */
interface Window {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  pb: number;
  pr: number;
}

function windowOf(ctx: OpContext, spatial: number, kernel: number[]): Window {
  if (spatial !== 1 && spatial !== 2) ctx.refuse(`only 1-D and 2-D windows are supported, got ${spatial}-D`);
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID')
    ctx.refuse(`auto_pad ${autoPad} is not supported (NOTSET or VALID)`);
  const k = ctx.ints('kernel_shape', kernel);
  const s = ctx.ints('strides', new Array(spatial).fill(1));
  const d = ctx.ints('dilations', new Array(spatial).fill(1));
  const p =
    autoPad === 'VALID' ? new Array(2 * spatial).fill(0) : ctx.ints('pads', new Array(2 * spatial).fill(0));
  if (k.length !== spatial || s.length !== spatial || d.length !== spatial || p.length !== 2 * spatial) {
    ctx.refuse(`kernel_shape/strides/dilations/pads do not match a ${spatial}-D window`);
  }
  if (spatial === 1)
    return { kh: 1, kw: k[0]!, sh: 1, sw: s[0]!, dh: 1, dw: d[0]!, pt: 0, pl: p[0]!, pb: 0, pr: p[1]! };
  return {
    kh: k[0]!,
    kw: k[1]!,
    sh: s[0]!,
    sw: s[1]!,
    dh: d[0]!,
    dw: d[1]!,
    pt: p[0]!,
    pl: p[1]!,
    pb: p[2]!,
    pr: p[3]!,
  };
}

const Conv: OpDef = {
  attrs: ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'],
  run(ctx) {
    const x = ctx.input(0, 'X');
    const w = ctx.input(1, 'W');
    const bias = ctx.optionalInput(2);
    const spatial = x.shape.length - 2;
    const win = windowOf(ctx, spatial, w.shape.slice(2));
    const [N, C] = x.shape as [number, number];
    const H = spatial === 2 ? x.shape[2]! : 1;
    const W = x.shape[x.shape.length - 1]!;
    const F = w.shape[0]!;
    const group = ctx.int('group', 1);
    const cPerG = C / group;
    if (!Number.isInteger(cPerG) || F % group !== 0 || w.shape[1] !== cPerG) {
      ctx.refuse(`weights ${shapeStr(w.shape)} do not fit input ${shapeStr(x.shape)} with group ${group}`);
    }
    const fPerG = F / group;
    const Ho = Math.floor((H + win.pt + win.pb - win.dh * (win.kh - 1) - 1) / win.sh) + 1;
    const Wo = Math.floor((W + win.pl + win.pr - win.dw * (win.kw - 1) - 1) / win.sw) + 1;
    if (Ho < 1 || Wo < 1) ctx.refuse(`window larger than the padded input ${shapeStr(x.shape)}`);
    if (bias && bias.data.length !== F) ctx.refuse(`bias ${shapeStr(bias.shape)} must hold ${F} values`);
    const out = new Float64Array(N * F * Ho * Wo);
    for (let n = 0; n < N; n++) {
      for (let f = 0; f < F; f++) {
        const g = Math.floor(f / fPerG);
        for (let oh = 0; oh < Ho; oh++) {
          for (let ow = 0; ow < Wo; ow++) {
            let acc = bias ? bias.data[f]! : 0;
            for (let c = 0; c < cPerG; c++) {
              const ci = g * cPerG + c;
              for (let p = 0; p < win.kh; p++) {
                const ih = oh * win.sh - win.pt + p * win.dh;
                if (ih < 0 || ih >= H) continue; // zero padding
                for (let q = 0; q < win.kw; q++) {
                  const iw = ow * win.sw - win.pl + q * win.dw;
                  if (iw < 0 || iw >= W) continue;
                  const xv = x.data[((n * C + ci) * H + ih) * W + iw]!;
                  const wv = w.data[((f * cPerG + c) * win.kh + p) * win.kw + q]!;
                  acc = (acc + mul32(xv, wv)) | 0;
                }
              }
            }
            out[((n * F + f) * Ho + oh) * Wo + ow] = acc;
          }
        }
      }
    }
    const shape = spatial === 2 ? [N, F, Ho, Wo] : [N, F, Wo];
    return [{ shape, data: out, signed: true }];
  },
};

const MaxPool: OpDef = {
  attrs: ['auto_pad', 'ceil_mode', 'dilations', 'kernel_shape', 'pads', 'storage_order', 'strides'],
  run(ctx) {
    if (ctx.node.outputs.length > 1 && ctx.node.outputs[1] !== '')
      ctx.refuse('the Indices output is not supported');
    if (ctx.int('ceil_mode', 0) !== 0) ctx.refuse('ceil_mode 1 is not supported');
    const x = ctx.input(0, 'X');
    const spatial = x.shape.length - 2;
    if (!ctx.has('kernel_shape')) ctx.refuse('missing attribute kernel_shape');
    const win = windowOf(ctx, spatial, []);
    const [N, C] = x.shape as [number, number];
    const H = spatial === 2 ? x.shape[2]! : 1;
    const W = x.shape[x.shape.length - 1]!;
    const Ho = Math.floor((H + win.pt + win.pb - win.dh * (win.kh - 1) - 1) / win.sh) + 1;
    const Wo = Math.floor((W + win.pl + win.pr - win.dw * (win.kw - 1) - 1) / win.sw) + 1;
    if (Ho < 1 || Wo < 1) ctx.refuse(`window larger than the padded input ${shapeStr(x.shape)}`);
    const out = new Float64Array(N * C * Ho * Wo);
    for (let nc = 0; nc < N * C; nc++) {
      for (let oh = 0; oh < Ho; oh++) {
        for (let ow = 0; ow < Wo; ow++) {
          let m = -Infinity; // padding never wins
          for (let p = 0; p < win.kh; p++) {
            const ih = oh * win.sh - win.pt + p * win.dh;
            if (ih < 0 || ih >= H) continue;
            for (let q = 0; q < win.kw; q++) {
              const iw = ow * win.sw - win.pl + q * win.dw;
              if (iw < 0 || iw >= W) continue;
              const v = x.data[(nc * H + ih) * W + iw]!;
              if (v > m) m = v;
            }
          }
          out[(nc * Ho + oh) * Wo + ow] = m;
        }
      }
    }
    const shape = spatial === 2 ? [N, C, Ho, Wo] : [N, C, Wo];
    return [{ shape, data: out, signed: x.signed }];
  },
};

/** Axes of a reduction from the attribute (opset < 18) or the second input (opset >= 18). */
export function reduceAxes(ctx: OpContext, rank: number): number[] {
  let axes: number[];
  if (ctx.optionalInput(1)) axes = ctx.inputInts(1, 'axes');
  else axes = ctx.ints('axes', []);
  if (axes.length === 0) {
    if (ctx.int('noop_with_empty_axes', 0) !== 0) return [];
    axes = [...Array(rank).keys()];
  }
  return [...new Set(axes.map((a) => ctx.axis(a, rank, 'axis')))].sort((p, q) => p - q);
}

/**
 * Sums over `axes`, calling `finish(sum, count)` for each output element. Sums are exact
 * (they stay far below 2^53 for integer activations).
 */
export function reduce(
  ctx: OpContext,
  x: Tensor,
  axes: number[],
  keepdims: boolean,
  finish: (sum: number, count: number) => number,
): Tensor {
  const keepShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  const sums = new Float64Array(sizeOf(keepShape));
  const target = broadcastIndex(keepShape, x.shape); // for each input element, its output slot
  for (let i = 0; i < x.data.length; i++) sums[target[i]!] += x.data[i]!;
  for (let i = 0; i < sums.length; i++) sums[i] = finish(sums[i]!, count);
  const shape = keepdims ? keepShape : x.shape.filter((_, i) => !axes.includes(i));
  if (!keepdims && sizeOf(shape) !== sums.length) ctx.refuse('reduction shape mismatch');
  return { shape, data: sums, signed: x.signed };
}

/**
 * Deeploy's integer mean (IntegerMean, ReduceMean): a power-of-two count without keepdims
 * rounds half up by shifting; otherwise it rounds half away from zero by truncating division.
 */
export function integerMean(sum: number, count: number, keepdims: boolean): number {
  const s = Math.log2(count);
  if (!keepdims && Number.isInteger(s)) return s === 0 ? sum : sra(sum + 2 ** (s - 1), s);
  const half = Math.floor(count / 2);
  return Math.trunc((sum + (sum >= 0 ? half : -half)) / count);
}

const IntegerMean: OpDef = {
  attrs: ['axes', 'keepdims', 'noop_with_empty_axes'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const keep = ctx.int('keepdims', 1) !== 0;
    return [reduce(ctx, x, reduceAxes(ctx, x.shape.length), keep, (s, n) => integerMean(s, n, keep))];
  },
};

const ReduceSum: OpDef = {
  attrs: ['axes', 'keepdims', 'noop_with_empty_axes'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const keep = ctx.int('keepdims', 1) !== 0;
    return [reduce(ctx, x, reduceAxes(ctx, x.shape.length), keep, (s) => wrapS(s, 32))];
  },
};

export const linearOps: Record<string, OpDef> = {
  MatMul,
  MatMulInteger: {
    attrs: [],
    run(ctx) {
      if (ctx.optionalInput(2) || ctx.optionalInput(3)) ctx.refuse('zero-point inputs are not supported');
      return MatMul.run(ctx);
    },
  },
  Gemm,
  Conv,
  MaxPool,
  Add: elementwise((x, y) => wrapS(x + y, 32)),
  Sub: elementwise((x, y) => wrapS(x - y, 32), true),
  Mul: elementwise((x, y) => mul32(x, y)),
  IntegerDiv,
  RQIntegerDiv,
  IntegerMean,
  ReduceMean: IntegerMean,
  ReduceSum,
};
