/**
 * The executor's integer matrix product on WebAssembly SIMD, for operands whose values fit 16 bits
 * (int8 and uint8 activations, int8 weights): `A B` with A rows x inner and B inner x cols staged
 * as int16 (B transposed, so that both are read along the inner dimension), accumulated in int32
 * lanes by `i32x4.dot_i16x8_s`, which multiplies eight pairs and adds them in pairs into four
 * lanes, every product and sum wrapping modulo 2^32 (the golden reference's kernel,
 * `rtl-model/simd-matmul.ts`, on 16-bit elements). The sums are the int32 (wrapping) sums of
 * `matmulInt`'s JavaScript loop: a sum modulo 2^32 does not depend on the order of its terms.
 *
 * Shapes of any size: the inner dimension is padded with zeros to a multiple of 8, the columns to
 * a multiple of 4 (zero terms add nothing; padded columns are not read back).
 */
import { dotMatmul } from '../../rtl-model/simd-matmul.ts';
import { ensureMemory, instantiate } from '../../rtl-model/wasm.ts';
import type { WasmMemory } from '../../rtl-model/wasm.ts';

interface Kernel {
  mm16(x: number, w: number, out: number, rows: number, inner: number, cols: number): void;
  mem: WasmMemory;
}

/** The instantiated module (undefined until first use; null where WebAssembly is missing). */
let kernel: Kernel | null | undefined;

function getKernel(): Kernel | null {
  if (kernel === undefined) {
    try {
      kernel = instantiate<Omit<Kernel, 'mem'>>([dotMatmul('mm16', 'i16')]);
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
