/**
 * Integer matrix products on WebAssembly SIMD, for the reference's matmuls of 8-bit operands,
 * with the steps around them (operand checks and narrowing, the weight's transpose, bias, the
 * 26-bit wrap and the requantiser) in the same module.
 *
 * `X Wt^T` with X rows x inner and Wt cols x inner (the weight already transposed), both int8
 * (X may instead be uint8: the AV step's softmax input), accumulated in wrapping int32 lanes:
 * each `i32x4.dot_i16x8_s` multiplies eight sign- or zero-extended 8-bit pairs and adds them in
 * pairs into four int32 lanes. The sums are therefore exact modulo 2^32, which is all the 26-bit
 * accumulator keeps (the same residues as the plain int32 loop).
 *
 * One function per X signedness, `mm_s` / `mm_u` (x, w, out, rows, inner, cols) with byte
 * addresses into the module's memory (the kernel of `simd-matmul.ts`, which the executor shares):
 * four output columns at a time, `inner` a multiple of 8 and `cols` of 4.
 */
import { F64, I32, ensureMemory, instantiate, op } from '../wasm.ts';
import { dotMatmul } from '../simd-matmul.ts';
import type { WasmFunction, WasmMemory } from '../wasm.ts';

/**
 * `narrow(src, n, dst, lo, hi)`: the n int32 values at src as bytes at dst; 0 as soon as one lies
 * outside lo..hi, 1 otherwise. `narrowT(src, rows, cols, dst, lo, hi)`: the same for a rows x cols
 * matrix written transposed (cols x rows).
 */
function narrowFunctions(): WasmFunction[] {
  const { get, set, tee } = op;
  // The value on the stack, kept in local v, returns 0 from the function when outside lo..hi.
  const check = (v: number, lo: number, hi: number) => [
    tee(v),
    get(lo),
    op.i32LtS,
    get(v),
    get(hi),
    op.i32GtS,
    op.i32Or,
    op.if,
    op.i32(0),
    op.return,
    op.end,
  ];
  // narrow: src 0, n 1, dst 2, lo 3, hi 4; i 5, v 6
  const narrow = [
    [op.i32(0), set(5)],
    op.block,
    op.loop,
    [get(5), get(1), op.i32GeU, op.brIf(1)],
    [get(2), get(5), op.i32Add, get(0), get(5), op.i32(2), op.i32Shl, op.i32Add],
    [op.i32Load(), check(6, 3, 4), get(6), op.i32Store8()],
    [get(5), op.i32(1), op.i32Add, set(5), op.br(0)],
    op.end,
    op.end,
    op.i32(1),
  ];
  // narrowT: src 0, rows 1, cols 2, dst 3, lo 4, hi 5; r 6, c 7, v 8, p 9 (source address)
  const narrowT = [
    [get(0), set(9), op.i32(0), set(6)],
    op.loop,
    [op.i32(0), set(7)],
    op.loop,
    // dst[c * rows + r] = src[r * cols + c]
    [get(3), get(7), get(1), op.i32Mul, op.i32Add, get(6), op.i32Add],
    [get(9), op.i32Load(), check(8, 4, 5), get(8), op.i32Store8()],
    [get(9), op.i32(4), op.i32Add, set(9)],
    [get(7), op.i32(1), op.i32Add, tee(7), get(2), op.i32LtU, op.brIf(0)],
    op.end,
    [get(6), op.i32(1), op.i32Add, tee(6), get(1), op.i32LtU, op.brIf(0)],
    op.end,
    op.i32(1),
  ];
  return [
    { name: 'narrow', params: [I32, I32, I32, I32, I32], results: [I32], locals: [[I32, 2]], code: narrow },
    {
      name: 'narrowT',
      params: [I32, I32, I32, I32, I32, I32],
      results: [I32],
      locals: [[I32, 4]],
      code: narrowT,
    },
  ];
}

/**
 * `finish(out, n, cols, bias, useBias, mult, scale, add, useRq, wrap)`: for the n accumulator
 * sums at out (rows of `cols`), adds the column's bias sign-extended from 24 bits (if useBias),
 * wraps to 26 bits (if wrap) and, if useRq, requantises as `requantizeArray` does for shifts
 * 1..35 (scale = 2^-(shift-1)): floor((floor(mult * acc * scale) + 1) / 2) + add, saturated to
 * int8. `sumHeads(src, heads, n, dst)`: dst[i] = the int32 (wrapping) sum over h of
 * src[h * n + i].
 */
function finishFunctions(): WasmFunction[] {
  const { get, set, tee } = op;
  const [OUT_, N_, COLS_, BIAS, USE_BIAS, MULT, SCALE, ADD, USE_RQ, WRAP] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [P, END, C, ACC, T] = [10, 11, 12, 13, 14];
  const finish = [
    [get(OUT_), set(P), get(OUT_), get(N_), op.i32(2), op.i32Shl, op.i32Add, set(END)],
    [op.i32(0), set(C)],
    op.block,
    op.loop,
    [get(P), get(END), op.i32GeU, op.brIf(1)],
    [get(P), op.i32Load(), set(ACC)],
    [get(USE_BIAS), op.if],
    [get(ACC), get(BIAS), get(C), op.i32(2), op.i32Shl, op.i32Add, op.i32Load()],
    [op.i32(8), op.i32Shl, op.i32(8), op.i32ShrS, op.i32Add, set(ACC)],
    op.end,
    [get(WRAP), op.if],
    [get(ACC), op.i32(6), op.i32Shl, op.i32(6), op.i32ShrS, set(ACC)],
    op.end,
    [get(USE_RQ), op.if],
    [get(MULT), get(ACC), op.f64ConvertI32S, op.f64Mul, get(SCALE), op.f64Mul, op.f64Floor],
    [op.f64(1), op.f64Add, op.f64(0.5), op.f64Mul, op.f64Floor, get(ADD), op.f64ConvertI32S, op.f64Add],
    // saturate in doubles (exact; the value may lie beyond int32): t < -128 ? -128 : t > 127 ? 127 : t
    [set(T), op.f64(-128), op.f64(127), get(T), get(T), op.f64(127), op.f64Gt, op.select],
    [get(T), op.f64(-128), op.f64Lt, op.select, op.i32TruncF64S, set(ACC)],
    op.end,
    [get(P), get(ACC), op.i32Store()],
    [get(P), op.i32(4), op.i32Add, set(P)],
    [get(C), op.i32(1), op.i32Add, tee(C), get(COLS_), op.i32Eq],
    op.if,
    [op.i32(0), set(C)],
    op.end,
    op.br(0),
    op.end,
    op.end,
  ];
  // sumHeads: src 0, heads 1, n 2, dst 3; i 4 (byte offset), end 5, h 6, acc 7, p 8, stride 9
  const sumHeads = [
    [op.i32(0), set(4), get(2), op.i32(2), op.i32Shl, tee(5), set(9)],
    op.block,
    op.loop,
    [get(4), get(5), op.i32GeU, op.brIf(1)],
    [op.i32(0), set(7), get(0), get(4), op.i32Add, set(8), op.i32(0), set(6)],
    op.loop,
    [get(7), get(8), op.i32Load(), op.i32Add, set(7), get(8), get(9), op.i32Add, set(8)],
    [get(6), op.i32(1), op.i32Add, tee(6), get(1), op.i32LtU, op.brIf(0)],
    op.end,
    [get(3), get(4), op.i32Add, get(7), op.i32Store()],
    [get(4), op.i32(4), op.i32Add, set(4), op.br(0)],
    op.end,
    op.end,
  ];
  return [
    {
      name: 'finish',
      params: [I32, I32, I32, I32, I32, F64, F64, I32, I32, I32],
      results: [],
      locals: [
        [I32, 4],
        [F64, 1],
      ],
      code: finish,
    },
    { name: 'sumHeads', params: [I32, I32, I32, I32], results: [], locals: [[I32, 6]], code: sumHeads },
  ];
}

/**
 * `lut(src, n, table, dst)`: the n int32 values at src mapped through the 256-entry int32 table
 * (indexed by value + 128) into dst; 0 as soon as a value lies outside int8, 1 otherwise.
 */
function lutFunction(): WasmFunction {
  const { get, set, tee } = op;
  // src 0, n 1, table 2, dst 3; i 4 (byte offset), end 5, v 6
  const code = [
    [op.i32(0), set(4), get(1), op.i32(2), op.i32Shl, set(5)],
    op.block,
    op.loop,
    [get(4), get(5), op.i32GeU, op.brIf(1)],
    [get(0), get(4), op.i32Add, op.i32Load(), op.i32(128), op.i32Add, tee(6), op.i32(256), op.i32GeU],
    op.if,
    [op.i32(0), op.return],
    op.end,
    [get(3), get(4), op.i32Add, get(2), get(6), op.i32(2), op.i32Shl, op.i32Add, op.i32Load(), op.i32Store()],
    [get(4), op.i32(4), op.i32Add, set(4), op.br(0)],
    op.end,
    op.end,
    op.i32(1),
  ];
  return { name: 'lut', params: [I32, I32, I32, I32], results: [I32], locals: [[I32, 3]], code };
}

type MatmulFn = (x: number, w: number, out: number, rows: number, inner: number, cols: number) => void;

interface Kernel {
  mm_s: MatmulFn;
  mm_u: MatmulFn;
  narrow(src: number, n: number, dst: number, lo: number, hi: number): number;
  narrowT(src: number, rows: number, cols: number, dst: number, lo: number, hi: number): number;
  finish(
    out: number,
    n: number,
    cols: number,
    bias: number,
    useBias: number,
    mult: number,
    scale: number,
    add: number,
    useRq: number,
    wrap: number,
  ): void;
  sumHeads(src: number, heads: number, n: number, dst: number): void;
  lut(src: number, n: number, table: number, dst: number): number;
  mem: WasmMemory;
}

/** The instantiated module (undefined until first use; null where WebAssembly is missing). */
let kernel: Kernel | null | undefined;

function getKernel(): Kernel | null {
  if (kernel === undefined)
    kernel = instantiate<Omit<Kernel, 'mem'>>([
      dotMatmul('mm_s', 'i8'),
      dotMatmul('mm_u', 'u8x'),
      ...narrowFunctions(),
      ...finishFunctions(),
      lutFunction(),
    ]);
  return kernel;
}

const align16 = (n: number) => (n + 15) & ~15;

/**
 * Most int32 values a call stages in the module's memory (64 MB), which never shrinks: larger
 * operands (far beyond ITA's sizes) take the JavaScript paths.
 */
const KERNEL_VALUES = 1 << 24;

/**
 * rq(sum over the `heads` blocks of `n` values of `all`) (int32 wrapping sums, requantised as
 * `requantizeArray` does) on the kernel; null for a shift outside 1..35 (or without WebAssembly).
 */
export function headSumSimd(
  all: Int32Array,
  heads: number,
  n: number,
  rq: { mult: number; shift: number; add: number },
): Int32Array | null {
  if (rq.shift < 1 || rq.shift > 35 || heads < 1 || n < 1 || (heads + 1) * n > KERNEL_VALUES) return null;
  const k = getKernel();
  if (!k) return null;
  const dst = 4 * heads * n;
  ensureMemory(k.mem, dst + 4 * n);
  new Int32Array(k.mem.buffer, 0, heads * n).set(all.subarray(0, heads * n));
  k.sumHeads(0, heads, n, dst);
  k.finish(dst, n, n, 0, 0, rq.mult, 2 ** -(rq.shift - 1), rq.add, 1, 0);
  return new Int32Array(k.mem.buffer, dst, n).slice();
}

/**
 * `out[i] = table[values[i] + 128]` on the kernel (`out` may be `values`); false, leaving `out`
 * alone, where a value lies outside int8 (or without WebAssembly).
 */
export function mapInt8(values: Int32Array, table: Int32Array, out: Int32Array): boolean {
  const n = values.length;
  if (2 * n > KERNEL_VALUES) return false;
  const k = getKernel();
  if (!k) return false;
  ensureMemory(k.mem, 1024 + 8 * n);
  new Int32Array(k.mem.buffer, 0, 256).set(table.subarray(0, 256));
  new Int32Array(k.mem.buffer, 1024, n).set(values);
  if (!k.lut(1024, n, 0, 1024 + 4 * n)) return false;
  out.set(new Int32Array(k.mem.buffer, 1024 + 4 * n, n));
  return true;
}

/**
 * The accumulator values of X W (+ bias), wrapped to 26 bits as `matmulAccT` forms them, and, with
 * `rq` (shift 1..35), requantised as `requantizeArray` does; computed on the kernel. `w` is
 * inner x cols, or with `wTransposed` cols x inner. Null, when the kernel does not apply: an x
 * outside int8 (with `unsignedX`: uint8), a w outside int8, `inner` not a multiple of 8 or `cols`
 * not of 4.
 */
export function matmulSimd(
  x: Int32Array,
  w: Int32Array,
  wTransposed: boolean,
  rows: number,
  inner: number,
  cols: number,
  bias: Int32Array | undefined,
  unsignedX: boolean,
  rq?: { mult: number; shift: number; add: number },
): Int32Array | null {
  if (rows < 1 || inner < 8 || inner % 8 !== 0 || cols < 4 || cols % 4 !== 0) return null;
  if (rq && (rq.shift < 1 || rq.shift > 35)) return null;
  if (rows * inner + cols * inner + rows * cols > KERNEL_VALUES) return null;
  const k = getKernel();
  if (!k) return null;
  const xn = rows * inner;
  const wn = cols * inner;
  const wAt = align16(xn);
  const outAt = align16(wAt + wn);
  const biasAt = outAt + 4 * rows * cols;
  const stageAt = biasAt + 4 * cols;
  ensureMemory(k.mem, stageAt + 4 * Math.max(xn, wn));
  const buf = k.mem.buffer;
  new Int32Array(buf, stageAt, xn).set(x.subarray(0, xn));
  if (!k.narrow(stageAt, xn, 0, unsignedX ? 0 : -128, unsignedX ? 255 : 127)) return null;
  new Int32Array(buf, stageAt, wn).set(w.subarray(0, wn));
  if (
    !(wTransposed ? k.narrow(stageAt, wn, wAt, -128, 127) : k.narrowT(stageAt, inner, cols, wAt, -128, 127))
  )
    return null;
  (unsignedX ? k.mm_u : k.mm_s)(0, wAt, outAt, rows, inner, cols);
  if (bias) new Int32Array(buf, biasAt, cols).set(bias.subarray(0, cols));
  const scale = rq ? 2 ** -(rq.shift - 1) : 0;
  k.finish(outAt, rows * cols, cols, biasAt, bias ? 1 : 0, rq?.mult ?? 0, scale, rq?.add ?? 0, rq ? 1 : 0, 1);
  return new Int32Array(buf, outAt, rows * cols).slice();
}
