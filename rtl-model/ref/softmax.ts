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
import { I32, ensureMemory, instantiate, op } from '../wasm.ts';
import type { Code, WasmFunction, WasmMemory } from '../wasm.ts';

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
  // (beyond 2^23 values, far past ITA's sizes, the JavaScript loop: the module's memory never shrinks)
  const k = rows > 0 && cols > 0 && rows * cols <= 1 << 23 ? getKernel() : null;
  if (k) return itaMaxOnKernel(k, a, rows, cols);
  const out = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    const { max, inverse } = itaMaxRowSum(a, off, cols);
    for (let c = 0; c < cols; c++) out[off + c] = shr(inverse, max - a[off + c]!, SOFTMAX_ACC_WIDTH) & 0xff;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The same on WebAssembly (it runs once per head over S x S values, mostly before JavaScript would
// have optimised it). A shift x >>> d that reaches the width gives 0: x >>> d is selected only for
// d < width, compared unsigned, so that a difference of two int32 values that wraps (the exact one
// is at least 2^31) gives 0 as the exact difference does.

/** `itamax(src, rows, cols, dst)`: int32 matrices at src and dst (byte addresses). */
function itaMaxFunction(): WasmFunction {
  const { get, set, tee } = op;
  // src 0, rows 1, cols 2, dst 3; r 4, g 5, max 6, newMax 7, sum 8, s 9, i 10, p 11, v 12,
  // inverse 13, q 14, rowBytes 15
  const value = (offset: Code) => [get(11), offset, op.i32Add, op.i32Load()];
  const code = [
    [get(2), op.i32(2), op.i32Shl, set(15), op.i32(0), set(4)],
    op.loop, // rows
    [get(0), get(4), get(15), op.i32Mul, op.i32Add, set(11)],
    [get(3), get(4), get(15), op.i32Mul, op.i32Add, set(14)],
    [op.i32(-128), set(6), op.i32(0), set(8), op.i32(0), set(5)],
    op.loop, // groups of 16
    [get(6), set(7), op.i32(0), set(10)],
    op.loop,
    [value([get(5), op.i32Add, get(10)]), tee(12), get(7), get(12), get(7)],
    [op.i32GtS, op.select, set(7)],
    [get(10), op.i32(4), op.i32Add, tee(10), op.i32(64), op.i32LtU, op.brIf(0)],
    op.end,
    // s = g === 0 ? 0 : shr(sum, newMax - max, 19)
    [get(8), get(7), get(6), op.i32Sub, set(9)],
    [get(9), op.i32ShrU, op.i32(0), get(9), op.i32(SOFTMAX_ACC_WIDTH), op.i32LtU, op.select],
    [op.i32(0), get(5), op.select, set(9)],
    [op.i32(0), set(10)],
    op.loop,
    // s += shr(256, newMax - a, 9)
    [get(9), op.i32(256), get(7), value([get(5), op.i32Add, get(10)]), op.i32Sub, set(12)],
    [get(12), op.i32ShrU, op.i32(0), get(12), op.i32(9), op.i32LtU, op.select],
    [op.i32Add, set(9)],
    [get(10), op.i32(4), op.i32Add, tee(10), op.i32(64), op.i32LtU, op.brIf(0)],
    op.end,
    [get(9), op.i32((1 << SOFTMAX_ACC_WIDTH) - 1), op.i32And, set(8), get(7), set(6)],
    [get(5), op.i32(64), op.i32Add, tee(5), get(15), op.i32LtU, op.brIf(0)],
    op.end,
    // inverse = (sum === 0 ? 2^20 - 1 : floor(SOFTMAX_SCALAR / sum)) & (2^19 - 1)
    [op.i32(SOFTMAX_SCALAR), get(8), op.i32(1), get(8), op.select, op.i32DivU],
    [op.i32(2 ** DIVIDER_WIDTH - 1), get(8), op.select, op.i32((1 << SOFTMAX_ACC_WIDTH) - 1)],
    [op.i32And, set(13)],
    // out = shr(inverse, max - a, 19) & 255
    [op.i32(0), set(10)],
    op.loop,
    [get(14), get(10), op.i32Add],
    [get(13), get(6), value(get(10)), op.i32Sub, set(12)],
    [get(12), op.i32ShrU, op.i32(0), get(12), op.i32(SOFTMAX_ACC_WIDTH), op.i32LtU, op.select],
    [op.i32(255), op.i32And, op.i32Store()],
    [get(10), op.i32(4), op.i32Add, tee(10), get(15), op.i32LtU, op.brIf(0)],
    op.end,
    [get(4), op.i32(1), op.i32Add, tee(4), get(1), op.i32LtU, op.brIf(0)],
    op.end,
  ];
  return { name: 'itamax', params: [I32, I32, I32, I32], results: [], locals: [[I32, 12]], code };
}

interface Kernel {
  itamax(src: number, rows: number, cols: number, dst: number): void;
  mem: WasmMemory;
}

/** The kernel (undefined until first used; null where WebAssembly is missing). */
let kernel: Kernel | null | undefined;

function getKernel(): Kernel | null {
  if (kernel === undefined) kernel = instantiate<Kernel>([itaMaxFunction()]);
  return kernel;
}

function itaMaxOnKernel(k: Kernel, a: Int32Array, rows: number, cols: number): Int32Array {
  const n = rows * cols;
  ensureMemory(k.mem, 8 * n);
  new Int32Array(k.mem.buffer, 0, n).set(a.subarray(0, n));
  k.itamax(0, rows, cols, 4 * n);
  return new Int32Array(k.mem.buffer, 4 * n, n).slice();
}
