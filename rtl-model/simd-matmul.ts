/**
 * The integer matrix product on WebAssembly SIMD that the golden reference (8-bit operands) and the
 * executor (operands of 16 bits) share: four output columns at a time, eight terms per step, each
 * `i32x4.dot_i16x8_s` multiplying eight pairs widened to 16 bits and adding them in pairs into
 * four int32 lanes, every product and sum wrapping modulo 2^32 (so the sums are the wrapping int32
 * sums of a plain loop, in any order of their terms).
 */
import { I32, V128, op } from './wasm.ts';
import type { Code, WasmFunction } from './wasm.ts';

// Parameters and locals of the kernel.
const X = 0;
const W = 1;
const OUT = 2;
const ROWS = 3;
const INNER = 4;
const COLS = 5;
const R = 6;
const C = 7;
const K = 8;
const XP = 9;
const W0 = 10;
const W1 = 11;
const W2 = 12;
const W3 = 13;
const OP = 14;
const A = [15, 16, 17, 18];
const XV = 19;

/**
 * The kernel `name(x, w, out, rows, inner, cols)`, byte addresses into the module's memory: out
 * (rows x cols int32) = x (rows x inner) times w^T (w: cols x inner), with elements of the kind
 * `elements`: `i8` (x and w int8), `u8x` (x uint8, w int8) or `i16` (both int16). rows >= 1, cols
 * >= 4 a multiple of 4, inner >= 8 a multiple of 8 (elements).
 */
export function dotMatmul(name: string, elements: 'i8' | 'u8x' | 'i16'): WasmFunction {
  const { get, set, tee } = op;
  const wide = elements === 'i16';
  // eight elements of x and of a row of w into eight 16-bit lanes
  const loadX = wide ? op.v128Load : elements === 'u8x' ? op.load8x8U : op.load8x8S;
  const loadW = wide ? op.v128Load : op.load8x8S;
  // a_j += dot(xv, w_j[k .. k+7])
  const mac = (j: number) => [
    get(A[j]!),
    get(XV),
    get(W0 + j),
    get(K),
    op.i32Add,
    loadW(),
    op.i32x4DotI16x8S,
    op.i32x4Add,
    set(A[j]!),
  ];
  // Pairwise lane sums of two accumulators: [p0+p2, q0+q2, p1+p3, q1+q3].
  const pairSums = (p: number, q: number) => [
    get(p),
    get(q),
    op.shuffle32([0, 4, 1, 5]),
    get(p),
    get(q),
    op.shuffle32([2, 6, 3, 7]),
    op.i32x4Add,
  ];
  const next = (v: number, step: Code, limit: number) => [
    get(v),
    step,
    op.i32Add,
    tee(v),
    get(limit),
    op.i32LtU,
    op.brIf(0),
  ];
  const code = [
    // INNER becomes the row length in bytes
    wide ? [get(INNER), op.i32(1), op.i32Shl, set(INNER)] : [],
    [get(OUT), set(OP), get(X), set(XP), op.i32(0), set(R)],
    op.loop, // rows
    [get(W), set(W0), op.i32(0), set(C)],
    op.loop, // groups of four columns
    [get(W0), get(INNER), op.i32Add, tee(W1), get(INNER), op.i32Add, tee(W2)],
    [get(INNER), op.i32Add, set(W3)],
    A.flatMap((a) => [op.v128Zero, set(a)]),
    [op.i32(0), set(K)],
    op.loop, // eight terms at a time
    [get(XP), get(K), op.i32Add, loadX(), set(XV)],
    [mac(0), mac(1), mac(2), mac(3)],
    next(K, op.i32(wide ? 16 : 8), INNER),
    op.end,
    [pairSums(A[0]!, A[1]!), set(A[0]!), pairSums(A[2]!, A[3]!), set(A[2]!)],
    [get(OP), get(A[0]!), get(A[2]!), op.shuffle32([0, 1, 4, 5])],
    [get(A[0]!), get(A[2]!), op.shuffle32([2, 3, 6, 7]), op.i32x4Add, op.v128Store()],
    [get(OP), op.i32(16), op.i32Add, set(OP)],
    [get(W3), get(INNER), op.i32Add, set(W0)],
    next(C, op.i32(4), COLS),
    op.end,
    [get(XP), get(INNER), op.i32Add, set(XP)],
    next(R, op.i32(1), ROWS),
    op.end,
  ];
  return {
    name,
    params: [I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [
      [I32, OP - R + 1],
      [V128, A.length + 1],
    ],
    code,
  };
}
