/**
 * QuantLib's integer operators with the arithmetic of Deeploy's Generic C kernels: requantisation
 * (multiply, add, round half up, shift, clip), the integer LayerNorm, GELU and NoNorm. Widths,
 * truncating divisions and wrapping casts follow the C types of those kernels.
 */
import { satS, sra, wrapS } from '../../rtl-model/sim/bits.ts';
import type { Tensor } from '../tensor.ts';
import { broadcastIndex, broadcastShapes, mapValues, sameShape, shapeStr } from '../tensor.ts';
import type { OpContext, OpDef } from './context.ts';

/** The C int32 product. */
const mul32 = Math.imul;

/**
 * Per-element index into a coefficient tensor (mul, add, weight, bias) for a data tensor: numpy
 * broadcasting, or, for a 1-D coefficient as long as axis 1, one value per channel.
 */
export function coefficientIndex(ctx: OpContext, coeff: Tensor, x: Tensor, role: string): Int32Array {
  const shape = broadcastShapes(coeff.shape, x.shape);
  if (shape && sameShape(shape, x.shape)) return broadcastIndex(coeff.shape, x.shape);
  if (coeff.data.length === x.shape[1] && x.shape.length >= 2) {
    const perChannel = x.shape.map((d, i) => (i === 1 ? d : 1));
    return broadcastIndex(perChannel, x.shape);
  }
  ctx.refuse(
    `${role} ${shapeStr(coeff.shape)} matches neither the data ${shapeStr(x.shape)} nor its channels`,
  );
}

/**
 * RequantShift on one value: clip((x*mul + add + 2^(s-1)) >> s) with the int32 intermediate of
 * the C kernel (it wraps on overflow), to n levels signed or unsigned.
 */
export function requantShift(
  x: number,
  mul: number,
  add: number,
  shift: number,
  nLevels: number,
  signed: boolean,
): number {
  let v = (mul32(x, mul) + add) | 0;
  if (shift > 0) v = (v + (1 << (shift - 1))) | 0;
  v = sra(v, shift);
  const half = nLevels / 2;
  if (signed) return v < -half ? -half : v > half - 1 ? half - 1 : v;
  return v < 0 ? 0 : v > nLevels - 1 ? nLevels - 1 : v;
}

function nLevelsOf(ctx: OpContext, name = 'n_levels'): number {
  const n = ctx.has(name) ? ctx.int(name) : ctx.int(`${name}_out`);
  if (n < 2 || n > 2 ** 32 || !Number.isInteger(Math.log2(n)))
    ctx.refuse(`${name} must be a power of two from 2 to 2^32, got ${n}`);
  return n;
}

const RequantShift: OpDef = {
  attrs: ['div', 'n_levels', 'n_levels_out', 'signed'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const mul = ctx.input(1, 'mul');
    const add = ctx.input(2, 'add');
    const shift = ctx.log2('div');
    const n = nLevelsOf(ctx);
    const signed = ctx.int('signed', 1) !== 0;
    const out = new Float64Array(x.data.length);
    if (mul.data.length === 1 && add.data.length === 1) {
      // scalar mul and add (every linear's and residual's requantiser): no per-element index
      const [m, a] = [mul.data[0]!, add.data[0]!];
      for (let i = 0; i < out.length; i++) out[i] = requantShift(x.data[i]!, m, a, shift, n, signed);
      return [{ shape: x.shape, data: out, signed }];
    }
    const im = coefficientIndex(ctx, mul, x, 'mul');
    const ia = coefficientIndex(ctx, add, x, 'add');
    for (let i = 0; i < out.length; i++) {
      out[i] = requantShift(x.data[i]!, mul.data[im[i]!]!, add.data[ia[i]!]!, shift, n, signed);
    }
    return [{ shape: x.shape, data: out, signed }];
  },
};

/** Largest r with r*r <= v (the integer square root the LayerNorm kernel searches for). */
export function isqrt(v: number): number {
  if (v <= 0) return 0;
  let r = Math.floor(Math.sqrt(v));
  while (r * r > v) r--;
  while ((r + 1) * (r + 1) <= v) r++;
  return r;
}

/**
 * iLayerNorm over the last axis: mean and variance by truncating division, std = isqrt(var + 1),
 * y = ((x - mean) * w / std (truncated) + b) >> log2(D), stored to int8 by wrapping.
 */
const iLayerNorm: OpDef = {
  attrs: ['D', 'n_levels'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const w = ctx.input(1, 'weight');
    const b = ctx.input(2, 'bias');
    const shift = ctx.log2('D');
    nLevelsOf(ctx);
    const L = x.shape[x.shape.length - 1]!;
    if (w.data.length !== L || b.data.length !== L) {
      ctx.refuse(
        `weight ${shapeStr(w.shape)} and bias ${shapeStr(b.shape)} must hold ${L} values (the last axis)`,
      );
    }
    const out = new Float64Array(x.data.length);
    for (let row = 0; row < x.data.length; row += L) {
      let sum = 0;
      for (let j = 0; j < L; j++) sum += x.data[row + j]!;
      const mean = Math.trunc(sum / L);
      let sq = 0;
      for (let j = 0; j < L; j++) {
        const d = wrapS(x.data[row + j]! - mean, 16);
        sq = (sq + d * d) | 0;
      }
      const std = isqrt(Math.trunc(sq / L) + 1);
      for (let j = 0; j < L; j++) {
        const scaled = Math.trunc(((x.data[row + j]! - mean) * w.data[j]!) / std) + b.data[j]!;
        out[row + j] = wrapS(sra(scaled, shift), 8);
      }
    }
    return [{ shape: x.shape, data: out, signed: true }];
  },
};

/** i-GELU on one value: q = min(|x|, -b), L = sgn(x) * (one - (q + b)^2), y = x * ((one + L) >> 1). */
export function igelu(x: number, b: number, one: number): number {
  const sign = x > 0 ? 1 : x < 0 ? -1 : 0;
  const q = Math.min(sign * x, -b);
  const d = q + b;
  const L = sign * (one - d * d);
  return mul32(x, (one + L) >> 1);
}

function geluParams(ctx: OpContext): [number, number] {
  const b = ctx.int('b');
  const one = ctx.int('one');
  if (b > 0 || b < -128) ctx.refuse(`attribute b must be from -128 to 0, got ${b}`);
  if (one < -32768 || one > 32767) ctx.refuse(`attribute one must fit int16, got ${one}`);
  return [b, one];
}

const iGELU: OpDef = {
  attrs: ['b', 'one'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const [b, one] = geluParams(ctx);
    return [{ shape: x.shape, data: mapValues(x.data, (v) => igelu(v, b, one)), signed: true }];
  },
};

/** iGELU fused with a scalar requantisation (mul, add, shift given as inputs), clipped to int8. */
const RequantizediGELU: OpDef = {
  attrs: ['b', 'one'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const [b, one] = geluParams(ctx);
    const mul = ctx.inputScalar(1, 'mul');
    const add = ctx.inputScalar(2, 'add');
    const shift = ctx.inputScalar(3, 'shift');
    if (shift < 1 || shift > 31) ctx.refuse(`shift must be from 1 to 31, got ${shift}`);
    const out = mapValues(x.data, (v) =>
      satS(sra((mul32(igelu(v, b, one), mul) + add + (1 << (shift - 1))) | 0, shift), 8),
    );
    return [{ shape: x.shape, data: out, signed: true }];
  },
};

/** iNoNorm: y = ((x * w + b) * mul) >> log2(D), elementwise, stored to 8 bits by wrapping. */
const iNoNorm: OpDef = {
  attrs: ['D', 'mul', 'n_levels'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const w = ctx.input(1, 'weights');
    const b = ctx.input(2, 'bias');
    const shift = ctx.log2('D');
    const mul = ctx.int('mul');
    const iw = coefficientIndex(ctx, w, x, 'weights');
    const ib = coefficientIndex(ctx, b, x, 'bias');
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = mul32(wrapS(x.data[i]! * w.data[iw[i]!]!, 16) + b.data[ib[i]!]!, mul);
      out[i] = wrapS(sra(v, shift), 8);
    }
    return [{ shape: x.shape, data: out, signed: x.signed }];
  },
};

/**
 * i-Hardswish: x * (clamp(x + three, 0, six) * one_over_six), int32. The C kernel multiplies by
 * the raw int8 buffer value, which for an unsigned input is the logical value minus 128.
 */
export function ihardswish(
  x: number,
  signed: boolean,
  oneOverSix: number,
  three: number,
  six: number,
): number {
  let t = x + three;
  t = t < 0 ? 0 : t > six ? six : t;
  return mul32(signed ? x : x - 128, mul32(t, oneOverSix));
}

const iHardswish: OpDef = {
  attrs: ['one_over_six', 'six', 'three'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const [o, t, s] = [ctx.int('one_over_six'), ctx.int('three'), ctx.int('six')];
    return [
      {
        shape: x.shape,
        data: mapValues(x.data, (v) => ihardswish(v, x.signed, o, t, s)),
        signed: true,
      },
    ];
  },
};

/** i-Hardswish followed by a scalar requantisation (mul, add, shift attributes), clipped to int8. */
const RequantizediHardswish: OpDef = {
  attrs: ['one_over_six', 'six', 'three', 'mul', 'add', 'shift'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const [o, t, s] = [ctx.int('one_over_six'), ctx.int('three'), ctx.int('six')];
    const [mul, add, shift] = [ctx.int('mul'), ctx.int('add'), ctx.int('shift')];
    if (shift < 1 || shift > 31) ctx.refuse(`shift must be from 1 to 31, got ${shift}`);
    const out = mapValues(x.data, (v) =>
      satS(sra((mul32(ihardswish(v, x.signed, o, t, s), mul) + add + (1 << (shift - 1))) | 0, shift), 8),
    );
    return [{ shape: x.shape, data: out, signed: true }];
  },
};

/**
 * iRMSNorm over the last axis: mean square by truncating division, std = isqrt(ms + 1),
 * y = clip(trunc(x * w / std) >> log2(D)) to int8.
 */
const iRMSNorm: OpDef = {
  attrs: ['D', 'n_levels', 'stash_type', 'axis', 'epsilon'],
  run(ctx) {
    const x = ctx.input(0, 'data');
    const w = ctx.input(1, 'weight');
    const shift = ctx.log2('D');
    nLevelsOf(ctx);
    if (ctx.int('stash_type', 1) !== 1) ctx.refuse('only stash_type 1 is supported');
    const L = x.shape[x.shape.length - 1]!;
    if (w.data.length !== L) ctx.refuse(`weight ${shapeStr(w.shape)} must hold ${L} values (the last axis)`);
    const out = new Float64Array(x.data.length);
    for (let row = 0; row < x.data.length; row += L) {
      let sq = 0;
      for (let j = 0; j < L; j++) {
        const d = wrapS(x.data[row + j]!, 16);
        sq = (sq + d * d) | 0;
      }
      const std = isqrt(Math.trunc(sq / L) + 1);
      for (let j = 0; j < L; j++)
        out[row + j] = satS(sra(Math.trunc(mul32(x.data[row + j]!, w.data[j]!) / std), shift), 8);
    }
    return [{ shape: x.shape, data: out, signed: true }];
  },
};

const Relu: OpDef = {
  attrs: [],
  run(ctx) {
    const x = ctx.input(0, 'X');
    return [{ shape: x.shape, data: mapValues(x.data, (v) => (v > 0 ? v : 0)), signed: false }];
  },
};

/** Clip to [lo, hi] given as inputs (opset >= 11) or attributes. */
const Clip: OpDef = {
  attrs: ['min', 'max'],
  run(ctx) {
    const x = ctx.input(0, 'input');
    const lo = ctx.optionalInput(1) ? ctx.inputScalar(1, 'min') : ctx.has('min') ? ctx.int('min') : -Infinity;
    const hi = ctx.optionalInput(2) ? ctx.inputScalar(2, 'max') : ctx.has('max') ? ctx.int('max') : Infinity;
    return [
      {
        shape: x.shape,
        data: mapValues(x.data, (v) => Math.min(Math.max(v, lo), hi)),
        signed: lo < 0 && x.signed,
      },
    ];
  },
};

export const quantOps: Record<string, OpDef> = {
  RequantShift,
  iLayerNorm,
  iGELU,
  RequantizediGELU,
  iNoNorm,
  iHardswish,
  RequantizediHardswish,
  iRMSNorm,
  Relu,
  Clip,
};
