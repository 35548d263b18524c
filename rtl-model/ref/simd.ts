/**
 * Integer matrix products on WebAssembly SIMD, for the reference's matmuls of 8-bit operands.
 *
 * `X Wt^T` with X rows x inner and Wt cols x inner (the weight already transposed), both int8
 * (X may instead be uint8: the AV step's softmax input), accumulated in wrapping int32 lanes:
 * each `i32x4.dot_i16x8_s` multiplies eight sign- or zero-extended 8-bit pairs and adds them in
 * pairs into four int32 lanes. The sums are therefore exact modulo 2^32, which is all the 26-bit
 * accumulator keeps (the same residues as the plain int32 loop).
 *
 * One function per X signedness, `mm_s` / `mm_u` (x, w, out, rows, inner, cols) with byte
 * addresses into the module's memory; it computes four output columns at a time, `inner` a
 * multiple of 8 and `cols` of 4.
 */
import { I32, V128, ensureMemory, instantiate, op } from './wasm.ts';
import type { WasmFunction, WasmMemory } from './wasm.ts';

// Parameters and locals.
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

/** `mm_s` or `mm_u`: rows >= 1, cols >= 4 a multiple of 4, inner >= 8 a multiple of 8. */
function matmul(unsignedX: boolean): WasmFunction {
  const { get, set, tee } = op;
  // a_j += dot(xv, w_j[k .. k+7])
  const mac = (j: number) => [
    ...get(A[j]!),
    ...get(XV),
    ...get(W0 + j),
    ...get(K),
    ...op.i32Add,
    ...op.load8x8S,
    ...op.i32x4DotI16x8S,
    ...op.i32x4Add,
    ...set(A[j]!),
  ];
  // Pairwise lane sums of two accumulators: [p0+p2, q0+q2, p1+p3, q1+q3].
  const pairSums = (p: number, q: number) => [
    ...get(p),
    ...get(q),
    ...op.shuffle32([0, 4, 1, 5]),
    ...get(p),
    ...get(q),
    ...op.shuffle32([2, 6, 3, 7]),
    ...op.i32x4Add,
  ];
  const next = (v: number, step: number[], limit: number) => [
    ...get(v),
    ...step,
    ...op.i32Add,
    ...tee(v),
    ...get(limit),
    ...op.i32LtU,
    ...op.brIf(0),
  ];
  const code = [
    ...[...get(OUT), ...set(OP), ...get(X), ...set(XP), ...op.i32(0), ...set(R)],
    ...op.loop, // rows
    ...[...get(W), ...set(W0), ...op.i32(0), ...set(C)],
    ...op.loop, // groups of four columns
    ...[...get(W0), ...get(INNER), ...op.i32Add, ...tee(W1), ...get(INNER), ...op.i32Add, ...tee(W2)],
    ...[...get(INNER), ...op.i32Add, ...set(W3)],
    ...A.flatMap((a) => [...op.v128Zero, ...set(a)]),
    ...[...op.i32(0), ...set(K)],
    ...op.loop, // eight terms at a time
    ...[...get(XP), ...get(K), ...op.i32Add, ...(unsignedX ? op.load8x8U : op.load8x8S), ...set(XV)],
    ...[...mac(0), ...mac(1), ...mac(2), ...mac(3)],
    ...next(K, op.i32(8), INNER),
    ...op.end,
    ...[...pairSums(A[0]!, A[1]!), ...set(A[0]!), ...pairSums(A[2]!, A[3]!), ...set(A[2]!)],
    ...[...get(OP), ...get(A[0]!), ...get(A[2]!), ...op.shuffle32([0, 1, 4, 5])],
    ...[...get(A[0]!), ...get(A[2]!), ...op.shuffle32([2, 3, 6, 7]), ...op.i32x4Add, ...op.v128Store],
    ...[...get(OP), ...op.i32(16), ...op.i32Add, ...set(OP)],
    ...[...get(W3), ...get(INNER), ...op.i32Add, ...set(W0)],
    ...next(C, op.i32(4), COLS),
    ...op.end,
    ...[...get(XP), ...get(INNER), ...op.i32Add, ...set(XP)],
    ...next(R, op.i32(1), ROWS),
    ...op.end,
  ];
  return {
    name: unsignedX ? 'mm_u' : 'mm_s',
    params: [I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [
      [I32, OP - R + 1],
      [V128, A.length + 1],
    ],
    code,
  };
}

type MatmulFn = (x: number, w: number, out: number, rows: number, inner: number, cols: number) => void;

/** The instantiated module (undefined until first use; null where WebAssembly SIMD is missing). */
let kernel: { mm_s: MatmulFn; mm_u: MatmulFn; mem: WasmMemory } | null | undefined;

/**
 * X Wt^T into `out` (rows x cols, int32, wrapping sums) when the SIMD kernel applies: every x a
 * signed (or, with `unsignedX`, unsigned) 8-bit value, every w a signed 8-bit value, `inner` a
 * multiple of 8 and `cols` of 4. Returns false, leaving `out` alone, otherwise.
 */
export function productsSimd(
  x: Int32Array,
  wT: Int32Array,
  rows: number,
  inner: number,
  cols: number,
  out: Int32Array,
  unsignedX: boolean,
): boolean {
  if (rows < 1 || inner < 8 || inner % 8 !== 0 || cols < 4 || cols % 4 !== 0) return false;
  const xn = rows * inner;
  const wn = cols * inner;
  for (let i = 0; i < xn; i++) {
    const v = x[i]!;
    if (unsignedX ? v < 0 || v > 255 : v < -128 || v > 127) return false;
  }
  for (let i = 0; i < wn; i++) {
    const v = wT[i]!;
    if (v < -128 || v > 127) return false;
  }
  if (kernel === undefined)
    kernel = instantiate<{ mm_s: MatmulFn; mm_u: MatmulFn }>([matmul(false), matmul(true)]);
  const k = kernel;
  if (!k) return false;
  const wAt = xn;
  const outAt = (wAt + wn + 15) & ~15;
  ensureMemory(k.mem, outAt + 4 * rows * cols);
  const buf = k.mem.buffer;
  // Int8Array.set stores each value modulo 2^8: the low byte, as the loads expect.
  new Int8Array(buf, 0, xn).set(x);
  new Int8Array(buf, wAt, wn).set(wT);
  (unsignedX ? k.mm_u : k.mm_s)(0, wAt, outAt, rows, inner, cols);
  out.set(new Int32Array(buf, outAt, rows * cols));
  return true;
}
