/**
 * The integer softmaxes of the dialect, row by row over the last axis:
 *
 * - `iSoftmax`: I-BERT's polynomial exponent with a shift, normalised by an unsigned division.
 * - `ITAMax` (Deeploy): full-row maximum, 256 >> ((max - x + 16) >> 5), scale (n_levels - 1) * 256.
 * - `ITAPartialMax` (Deeploy's emulation of ITA): the maximum and the exponent sum are built in
 *   groups of `group_width` columns; a group that raises the maximum by d shifts the sum so far by
 *   (d + 16) >> 5; scale (n_levels / 2 - 1) * 256 (values 0..127).
 * - The RTL's ITAMax (`rtl-model/ref/softmax.ts`): groups of 16, shifts by the plain difference,
 *   scale 255 * 256 (values 0..255).
 *
 * All return the logical (unsigned) activations, as Deeploy's unsigned output type means them.
 * Inputs are int8 values; only differences to the row maximum matter, so the offset an unsigned
 * input carries in a C buffer cancels.
 */
import { wrapS } from '../rtl-model/sim/bits.ts';
import { itaMax } from '../rtl-model/ref/softmax.ts';

/** Unsigned 32-bit wrap of a non-negative or negative integer (C's uint32_t). */
function u32(x: number): number {
  return x >>> 0;
}

/** Deeploy's ITAPartialMax on one row of `cols` values at `off` (group width divides cols). */
export function itaPartialMaxRow(
  x: ArrayLike<number>,
  off: number,
  cols: number,
  group: number,
  nLevels: number,
  out: Float64Array,
): void {
  let acc = 0;
  let max = -128;
  for (let g = 0; g < cols; g += group) {
    let cmax = -128;
    for (let k = 0; k < group; k++) if (x[off + g + k]! > cmax) cmax = x[off + g + k]!;
    let shiftSum = 0;
    if (cmax > max) {
      shiftSum = (cmax - max + 16) >> 5;
      max = cmax;
    }
    let sum = 0;
    for (let k = 0; k < group; k++) sum += 256 >>> ((max - x[off + g + k]! + 16) >> 5);
    acc = u32((acc >>> shiftSum) + sum);
  }
  const inverse = Math.floor(u32((nLevels / 2 - 1) * 256) / acc);
  for (let j = 0; j < cols; j++) {
    const shift = ((max - x[off + j]! + 16) >> 5) & 0xff;
    out[off + j] = storeUnsigned8((inverse >>> shift) - nLevels / 2);
  }
}

/** Deeploy's ITAMax on one row. */
export function itaMaxDeeployRow(
  x: ArrayLike<number>,
  off: number,
  cols: number,
  nLevels: number,
  out: Float64Array,
): void {
  let max = -128;
  for (let j = 0; j < cols; j++) if (x[off + j]! > max) max = x[off + j]!;
  let sum = 0;
  for (let j = 0; j < cols; j++) sum = u32(sum + (256 >>> (((max - x[off + j]! + 16) >> 5) & 0xff)));
  const inverse = Math.floor(u32((nLevels - 1) * 256) / sum);
  for (let j = 0; j < cols; j++) {
    const shift = ((max - x[off + j]! + 16) >> 5) & 0xff;
    out[off + j] = storeUnsigned8((inverse >>> shift) - nLevels / 2);
  }
}

/**
 * The C kernels store `value - n_levels / 2` into an int8 buffer that Deeploy reads as an unsigned
 * tensor (offset 128): the logical value is the wrapped byte plus 128.
 */
function storeUnsigned8(v: number): number {
  return wrapS(v, 8) + 128;
}

export interface ISoftmaxCoeffs {
  coeffA: number;
  coeffB: number;
  coeffC: number;
  log2: number;
  nLevels: number;
}

/** C's (uint32_t)((uint64_t)v >> z) for a signed 64-bit v (exact for |v| < 2^53). */
function shiftU64ToU32(v: number, z: number): number {
  if (v >= 0) return u32(Math.floor(v / 2 ** z));
  return Number(BigInt.asUintN(32, BigInt.asUintN(64, BigInt(v)) >> BigInt(z)));
}

/** iSoftmax's exponent (uint32) of a difference d = x - max to the row maximum (d <= 0). */
export function iSoftmaxExp(d: number, c: ISoftmaxCoeffs): number {
  const xt = wrapS(d, 16);
  let z = wrapS(-Math.trunc(xt / c.log2), 8);
  z = z < 0 ? 0 : z > 31 ? 31 : z;
  const p = wrapS(xt + z * c.log2, 16);
  const pb = p + c.coeffB;
  const poly = Math.imul(c.coeffA, Math.imul(pb, pb)) + c.coeffC;
  return shiftU64ToU32(poly, z);
}

/** Deeploy's iSoftmax on one row. */
export function iSoftmaxRow(
  x: ArrayLike<number>,
  off: number,
  cols: number,
  c: ISoftmaxCoeffs,
  out: Float64Array,
): void {
  let max = -128;
  for (let j = 0; j < cols; j++) if (x[off + j]! > max) max = x[off + j]!;
  const y = new Array<number>(cols);
  let sum = 0;
  for (let j = 0; j < cols; j++) {
    y[j] = iSoftmaxExp(x[off + j]! - max, c);
    sum = u32(sum + y[j]!);
  }
  if (sum === 0) throw new RangeError('iSoftmax: the exponent sum of a row is zero');
  for (let j = 0; j < cols; j++) {
    const q = Math.floor(u32(Math.imul(y[j]!, c.nLevels - 1)) / sum);
    out[off + j] = storeUnsigned8(q - c.nLevels / 2);
  }
}

/** The RTL's ITAMax of one rows x cols block (cols a multiple of 16), values 0..255. */
export function itaMaxRtl(x: ArrayLike<number>, rows: number, cols: number): Int32Array {
  return itaMax(Int32Array.from(x), rows, cols);
}
