/**
 * The executor's integer matrix product on WebAssembly SIMD, for operands whose values fit 16 bits
 * (int8 and uint8 activations, int8 weights): `A B` with A rows x inner and B inner x cols staged
 * as int16 (B transposed, so that both are read along the inner dimension), accumulated in int32
 * lanes by `i32x4.dot_i16x8_s`, which multiplies eight pairs and adds them in pairs into four
 * lanes, every product and sum wrapping modulo 2^32. The sums are the int32 (wrapping) sums of
 * `matmulInt`'s JavaScript loop: a sum modulo 2^32 does not depend on the order of its terms.
 *
 * Shapes of any size: the inner dimension is padded with zeros to a multiple of 8, the columns to
 * a multiple of 4 (zero terms add nothing; padded columns are not read back).
 */
import { I32, V128, ensureMemory, instantiate, op, uleb } from '../../rtl-model/wasm.ts';
import type { WasmFunction, WasmMemory } from '../../rtl-model/wasm.ts';

// Parameters and locals of `mm16`.
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

/** `v128.load` (sixteen bytes at the address on the stack plus `offset`). */
const v128Load = (offset = 0): number[] => [0xfd, 0, 0, ...uleb(offset)];

/**
 * `mm16(x, w, out, rows, inner, cols)`, byte addresses into the module's memory: out (rows x cols
 * int32) = x (rows x inner int16) times w^T (w cols x inner int16); rows >= 1, inner >= 8 a
 * multiple of 8 (bytes: of 16), cols >= 4 a multiple of 4.
 */
function mm16(): WasmFunction {
  const { get, set, tee } = op;
  // a_j += dot(xv, w_j[k .. k+7]); K counts bytes
  const mac = (j: number) => [
    get(A[j]!),
    get(XV),
    get(W0 + j),
    get(K),
    op.i32Add,
    v128Load(),
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
  const next = (v: number, step: number[], limit: number) => [
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
    [get(INNER), op.i32(1), op.i32Shl, set(INNER)],
    [get(OUT), set(OP), get(X), set(XP), op.i32(0), set(R)],
    op.loop, // rows
    [get(W), set(W0), op.i32(0), set(C)],
    op.loop, // groups of four columns
    [get(W0), get(INNER), op.i32Add, tee(W1), get(INNER), op.i32Add, tee(W2)],
    [get(INNER), op.i32Add, set(W3)],
    A.flatMap((a) => [op.v128Zero, set(a)]),
    [op.i32(0), set(K)],
    op.loop, // eight terms at a time
    [get(XP), get(K), op.i32Add, v128Load(), set(XV)],
    [mac(0), mac(1), mac(2), mac(3)],
    next(K, op.i32(16), INNER),
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
    name: 'mm16',
    params: [I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [
      [I32, OP - R + 1],
      [V128, A.length + 1],
    ],
    code,
  };
}

interface Kernel {
  mm16(x: number, w: number, out: number, rows: number, inner: number, cols: number): void;
  mem: WasmMemory;
}

/** The instantiated module (undefined until first use; null where WebAssembly is missing). */
let kernel: Kernel | null | undefined;

function getKernel(): Kernel | null {
  if (kernel === undefined) {
    try {
      kernel = instantiate<Omit<Kernel, 'mem'>>([mm16()]);
    } catch {
      // an engine without SIMD rejects the module: the JavaScript loop computes every product
      kernel = null;
    }
  }
  return kernel;
}

/** Most bytes one product stages in the module's memory (which never shrinks); larger ones take JavaScript. */
const KERNEL_BYTES = 64 << 20;

const up = (n: number, m: number): number => Math.ceil(n / m) * m;

/** Where the operands of one product lie in a source tensor: a base index and two strides. */
export interface Operand {
  data: ArrayLike<number>;
  offset: number;
  /** Stride of the rows of the product's operand (A: its M rows; B^T: its O rows). */
  rowStride: number;
  /** Stride along the inner dimension. */
  innerStride: number;
}

/**
 * Writes `rows` x `inner` values of `src` as int16 rows of `innerP` (zero padded) at `dst`; false
 * as soon as one value lies outside -32768..32767 (or is not a number).
 */
function stage(dst: Int16Array, src: Operand, rows: number, inner: number, innerP: number): boolean {
  const d = src.data;
  for (let r = 0; r < rows; r++) {
    let s = src.offset + r * src.rowStride;
    const base = r * innerP;
    for (let k = 0; k < inner; k++, s += src.innerStride) {
      const v = d[s]!;
      if (!(v >= -32768 && v <= 32767)) return false;
      dst[base + k] = v;
    }
  }
  return true;
}

/**
 * A set of products `a_i b_i` (each M x N times N x O) on the kernel, written to `out` (one M x O
 * block per product, in order, as doubles); false, with `out` partly written, when a value does
 * not fit 16 bits, a product is too large for the kernel's memory or WebAssembly SIMD is missing.
 */
export function matmulsSimd(
  products: { a: Operand; b: Operand }[],
  M: number,
  N: number,
  O: number,
  out: Float64Array,
): boolean {
  if (M < 1 || N < 1 || O < 1) return false;
  const innerP = up(N, 8);
  const colsP = up(O, 4);
  const xBytes = 2 * M * innerP;
  const wBytes = 2 * colsP * innerP;
  const outBytes = 4 * M * colsP;
  if (xBytes + wBytes + outBytes > KERNEL_BYTES) return false;
  const k = getKernel();
  if (!k) return false;
  ensureMemory(k.mem, xBytes + wBytes + outBytes);
  const buf = k.mem.buffer;
  const x = new Int16Array(buf, 0, M * innerP);
  const w = new Int16Array(buf, xBytes, colsP * innerP);
  const res = new Int32Array(buf, xBytes + wBytes, M * colsP);
  // padding stays zero: only the first N of each row and O rows of w are written
  x.fill(0);
  w.fill(0);
  let lastB: Operand | undefined;
  for (let p = 0; p < products.length; p++) {
    const { a, b } = products[p]!;
    if (!stage(x, a, M, N, innerP)) return false;
    // a broadcast B (the same weights for every product) is staged once
    const sameB =
      lastB !== undefined &&
      lastB.data === b.data &&
      lastB.offset === b.offset &&
      lastB.rowStride === b.rowStride &&
      lastB.innerStride === b.innerStride;
    if (!sameB && !stage(w, b, O, N, innerP)) return false;
    lastB = b;
    k.mm16(0, xBytes, xBytes + wBytes, M, innerP, colsP);
    const base = p * M * O;
    for (let m = 0; m < M; m++) {
      const row = m * colsP;
      const o0 = base + m * O;
      for (let o = 0; o < O; o++) out[o0 + o] = res[row + o]!;
    }
  }
  return true;
}
