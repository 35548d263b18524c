/**
 * ITAMax, ITA's streaming partial softmax (`ita_softmax.sv`, `ita_max_finder.sv`), untimed.
 *
 * Pass 1 walks each row in groups of N = 16 columns, in column order (the order the QK tiles leave
 * the requantiser). It keeps the row's running maximum and a 19-bit unsigned running sum of
 * 2^8 >> (max - x); when a group raises the maximum by d, the sum so far is first shifted right by d.
 * The sum is then inverted, floor((2^8 - 1) * 2^8 / sum). Pass 2 (the stream softmax) outputs
 * inverse >> (max - x) for every element as uint8. With ITA's scale (eps = 1, SoftmaxShift = 0)
 * every shift is the plain difference of two int8 values.
 */
import { truncU } from '../sim/bits.ts';

/** Columns per group (N processing elements). */
export const SOFTMAX_GROUP = 16;
/** Width of the running sum (SoftmaxAccDataWidth). */
export const SOFTMAX_ACC_WIDTH = 19;
/** Dividend of the inversion, (2^8 - 1) * 2^8 (SoftmaxScalar). */
export const SOFTMAX_SCALAR = 65280;
/** Width of the divider result (DividerWidth). */
const DIVIDER_WIDTH = SOFTMAX_ACC_WIDTH + 1;

/** Logical right shift of a non-negative value, 0 once the shift reaches the value's width. */
function shr(x: number, s: number, width: number): number {
  return s >= width ? 0 : x >>> s;
}

/** ITAMax of one row: pass 1 returns the row maximum and the inverse of the exponent sum. */
export function itaMaxRowSum(a: Int32Array, offset: number, cols: number): { max: number; inverse: number } {
  let max = -128; // the max memory's reset value for the first group of a row (8'h80)
  let sum = 0;
  for (let g = 0; g < cols; g += SOFTMAX_GROUP) {
    // ita_max_finder: the larger of the previous maximum and the group's (its strict compares
    // only decide which of two equal values is taken).
    let newMax = max;
    for (let i = 0; i < SOFTMAX_GROUP; i++) newMax = Math.max(newMax, a[offset + g + i]!);
    let s = g === 0 ? 0 : shr(sum, newMax - max, SOFTMAX_ACC_WIDTH);
    for (let i = 0; i < SOFTMAX_GROUP; i++) s += shr(256, newMax - a[offset + g + i]!, 9);
    sum = truncU(s, SOFTMAX_ACC_WIDTH);
    max = newMax;
  }
  return { max, inverse: itaMaxInverse(sum) };
}

/**
 * The inversion of a row's 19-bit exponent sum: `ita_serdiv` divides SoftmaxScalar by it and the
 * softmax keeps the low 19 bits of the 20-bit quotient. A zero divisor gives the divider's all-ones
 * result (not reachable from a row: its maximum alone adds 2^8).
 */
export function itaMaxInverse(sum: number): number {
  const quotient = sum === 0 ? 2 ** DIVIDER_WIDTH - 1 : Math.floor(SOFTMAX_SCALAR / sum);
  return truncU(quotient, SOFTMAX_ACC_WIDTH);
}

/**
 * ITAMax of a rows x cols matrix of int8 values (row-major), row by row; `cols` a multiple of 16.
 * Returns the uint8 activations (0..255).
 */
export function itaMax(a: Int32Array, rows: number, cols: number): Int32Array {
  if (cols % SOFTMAX_GROUP !== 0)
    throw new RangeError(`itaMax: ${cols} columns is not a multiple of ${SOFTMAX_GROUP}`);
  if (a.length < rows * cols) throw new RangeError(`itaMax: ${a.length} values for ${rows} x ${cols}`);
  const out = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    const { max, inverse } = itaMaxRowSum(a, off, cols);
    for (let c = 0; c < cols; c++) out[off + c] = shr(inverse, max - a[off + c]!, SOFTMAX_ACC_WIDTH) & 0xff;
  }
  return out;
}
